"""The fast backtest, the parameter sweep and walk-forward runs, all on the engine's core."""
