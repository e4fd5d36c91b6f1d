"""Market data: candle series, their files, validation and fetching through a venue."""
