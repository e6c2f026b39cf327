"""Passwords: the portal's own rules for a new password, changing a known password, and the
discipline every directory write follows (its attempt on record first, sessions ended after)."""
