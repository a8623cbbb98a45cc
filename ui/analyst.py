"""Who is using the app: the owner of everything they save.

Sign-in is not built yet: everyone is the one local analyst (`gateway.store.LOCAL_OWNER`). Pages ask here, never
the store, so sign-in changes this one place.
"""

from __future__ import annotations

from gateway.store import LOCAL_OWNER


def owner() -> str:
    """The analyst id that owns what this session saves and may open."""
    return LOCAL_OWNER
