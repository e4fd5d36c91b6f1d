"""A client's way to live trading: what it has done, and what is still missing."""
