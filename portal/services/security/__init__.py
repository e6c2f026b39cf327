"""Protections every flow shares: the audit trail, budgets per account, destination and address,
the per-account guard that pauses after failures, and keyed hashes and sealing."""
