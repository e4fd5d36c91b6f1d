"""Clients (the tenants): their limits, run configuration and audit trail."""
