"""Public track records: opted-in bots shown publicly, anonymised (no client, no amounts)."""
