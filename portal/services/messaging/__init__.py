"""Messages to people: mail and SMS rendered from the theme's templates, queued in the outbox and
delivered at most once, the notices about password events, and the links they carry."""
