"""Adapters: the only code that talks to outside systems (directory, mail, SMS)."""
