"""Start a real LiteLLM proxy on a free loopback port: a re-export of scripts/services.py, shared with `make run`."""

from scripts.services import MASTER_KEY, Proxy, free_port, litellm_executable, start_proxy

__all__ = ["MASTER_KEY", "Proxy", "free_port", "litellm_executable", "start_proxy"]
