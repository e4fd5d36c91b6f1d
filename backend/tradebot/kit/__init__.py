"""Domain-free helpers: the tenant scope and repository base, secrets and encryption."""
