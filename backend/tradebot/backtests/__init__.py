"""Backtest jobs of the API: a bot's grid over bundled or uploaded candles, run off the request."""
