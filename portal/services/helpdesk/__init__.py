"""The help desk: an agent checks a caller with their registered methods, then resets or unlocks."""
