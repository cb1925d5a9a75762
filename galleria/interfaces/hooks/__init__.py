"""Inbound calls from outside parties that are not browsers or API clients: providers' pushes (SMS receipts)."""
