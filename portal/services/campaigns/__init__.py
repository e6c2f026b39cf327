"""Adoption campaigns and expiry reminders: who is in an audience, and sending to many people at a
controlled pace, resumable after a crash."""
