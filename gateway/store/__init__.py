"""Saved work: conversations and comparisons, their history and search, and health probe samples, in SQLite (the
default, a file under the app's root) or PostgreSQL (`DATABASE_URL=postgresql+psycopg://…`).

Pages call `get_store(settings)` once per run and then its methods; they never see SQL, sessions or database
exceptions. See `gateway/store/store.py` for the API, `schema.py` for the tables, `queries.py` for every query.
"""

from gateway.store.engine import DEFAULT_URL
from gateway.store.records import StoreStatus, Summary, Unavailable
from gateway.store.store import LOCAL_OWNER, Store, get_store

__all__ = ["DEFAULT_URL", "LOCAL_OWNER", "Store", "StoreStatus", "Summary", "Unavailable", "get_store"]
