"""Notifications: the daily P&L email and alerts, sent in arq jobs (never on the trading path)."""
