"""The operator's path: the only place with queries across clients (no tenant scope)."""
