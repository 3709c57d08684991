"""Restricted-party screening: list editions, their readers, and name matching."""
