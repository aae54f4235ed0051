"""User accounts of every kind, and tenant admins' management of their own users."""
