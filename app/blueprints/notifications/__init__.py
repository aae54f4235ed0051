"""Notifications: an outbox of messages to people, delivered per channel (design.md section 6)."""
