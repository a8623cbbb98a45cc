"""Start a real LiteLLM proxy of a given release on a free loopback port (scripts/services.py's parts, shared with
`make run`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scripts import services
from scripts.services import MASTER_KEY, PROXY_DEFAULTS, free_port, launch, proxy_alive, proxy_environment, \
    wait_until_ready
from tests.support import litellm_versions

__all__ = ["MASTER_KEY", "Proxy", "free_port", "start_proxy"]

# Older releases fetch a Hugging Face tokenizer for a model they do not know the first time they stream it
# (1.53.1: five retries, ~24 s before the stream ends, and a request to the internet): they fall back to tiktoken.
OFFLINE = {"HF_HUB_OFFLINE": "1"}


@dataclass
class Proxy(services.Proxy):
    """A running test proxy, and which LiteLLM release it is."""

    version: str = litellm_versions.CURRENT


def start_proxy(config: str | Path, *, version: str = litellm_versions.CURRENT, env: dict[str, str] | None = None,
                timeout: float = 180.0) -> Proxy:
    """Start that release's `litellm --config config` with no database and wait until it answers (as
    services.start_proxy does for the project's own release). Raises if it does not."""
    child_env = proxy_environment(MASTER_KEY, {**PROXY_DEFAULTS, **OFFLINE, **(env or {})})
    child_env.pop("DATABASE_URL", None)
    port = free_port()
    argv = [litellm_versions.executable(version), "--config", str(config), "--port", str(port),
            "--host", "127.0.0.1", "--num_workers", "1"]
    proxy = launch(f"litellm-{version}", argv, f"http://127.0.0.1:{port}", env=child_env, service=Proxy,
                   master_key=MASTER_KEY, version=version)
    wait_until_ready(proxy, proxy_alive, timeout)
    return proxy
