"""What IT reads: adoption and activity reports, the audit log viewer and its CSV, the settings as
the portal sees them, readiness checks, and the small helpers they share (periods, charts, CSV)."""
