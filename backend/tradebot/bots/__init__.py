"""A client's grid bots (saved configurations) and the runs started from them."""
