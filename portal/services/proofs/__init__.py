"""Proof of identity: the verification methods (alternate email, mobile phone, authenticator app,
security questions), the person's registered security info, one-time codes, and checking a proof.
Registration and reset both prove people through this package, so both apply the same rules."""
