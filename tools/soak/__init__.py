"""Soak tooling: long fault runs against the exchange simulator that prove the order-safety
rules hold (run by ``make soak``; a short version runs in ``make test``)."""
