"""Login, tokens and their revocation."""
