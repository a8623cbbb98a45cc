"""The gateway: everything the pages need to know about models and the LiteLLM proxy, with no drawing code.

The four functions of the integration guide this product grew from are its public API, for scripts and notebooks:
`is_configured()`, `get_config()`, `clear_cache()` and `fetch_models()` (see README, "Python API"); plus the records
and errors they use.
"""

__version__ = "0.1.0"

from gateway.catalogue import Catalogue, clear_cache, fetch_models, get_config, is_configured, refresh
from gateway.config import Settings, load_settings
from gateway.errors import GatewayError
from gateway.models import ModelRecord, find_model

__all__ = [
    "Catalogue", "GatewayError", "ModelRecord", "Settings",
    "clear_cache", "fetch_models", "find_model", "get_config", "is_configured", "load_settings", "refresh",
]
