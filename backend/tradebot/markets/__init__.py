"""Public market data for the portal's charts: recent candles of a pair, cached briefly."""
