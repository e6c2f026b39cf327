"""The portal's own database: users, server-side sessions and, later, audit and flow state."""
from .db import Store, get_store, rows_changed

__all__ = ["Store", "get_store", "rows_changed"]
