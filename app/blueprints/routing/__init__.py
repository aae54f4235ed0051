"""Routing suggestions (分派建议): which categories, and so which units, a caller's words point to."""
