"""Risk consent: the versioned risk disclosure and terms a client accepts before live trading."""
