"""Logs, metrics and the checks that keep secrets out of both."""
