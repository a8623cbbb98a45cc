"""Start a real LiteLLM proxy of a given release on a free loopback port (scripts/services.py's parts, shared with
`make run`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from gateway.config import Settings, load_settings
from scripts import services
from scripts.services import (
    MASTER_KEY,
    PROXY_DEFAULTS,
    free_port,
    launch,
    proxy_alive,
    proxy_environment,
    wait_until_ready,
)
from tests.support import litellm_versions

__all__ = ["MASTER_KEY", "Proxy", "free_port", "restart_proxy", "settings_for", "start_proxy"]

# Older releases fetch a Hugging Face tokenizer for a model they do not know the first time they stream it
# (1.53.1: five retries, ~24 s before the stream ends, and a request to the internet): they fall back to tiktoken.
OFFLINE = {"HF_HUB_OFFLINE": "1"}
# A proxy that crashes in C (CI, 2026-12-07: SIGSEGV inside libpython) writes every thread's Python stack to its log.
FAULTHANDLER = {"PYTHONFAULTHANDLER": "1"}


@dataclass
class Proxy(services.Proxy):
    """A running test proxy, which LiteLLM release it is, and what it was started with (to start it again)."""

    version: str = litellm_versions.CURRENT
    config: Path = Path()
    extra_env: dict[str, str] = field(default_factory=dict)  # what start_proxy was given as `env`

    @property
    def port(self) -> int:
        port = urlsplit(self.base_url).port
        assert port is not None
        return port


def start_proxy(config: str | Path, *, version: str = litellm_versions.CURRENT, env: dict[str, str] | None = None,
                port: int | None = None, timeout: float = 180.0) -> Proxy:
    """Start that release's `litellm --config config` with no database on `port` (a free one when None) and wait
    until it answers (as services.start_proxy does for the project's own release). Raises if it does not."""
    child_env = proxy_environment(MASTER_KEY, {**PROXY_DEFAULTS, **OFFLINE, **FAULTHANDLER, **(env or {})})
    child_env.pop("DATABASE_URL", None)
    port = port or free_port()
    argv = [litellm_versions.executable(version), "--config", str(config), "--port", str(port),
            "--host", "127.0.0.1", "--num_workers", "1"]
    proxy = launch(f"litellm-{version}", argv, f"http://127.0.0.1:{port}", env=child_env, service=Proxy,
                   master_key=MASTER_KEY, version=version, config=Path(config), extra_env=dict(env or {}))
    # Ours, not another proxy that took the free port while this one was starting (several suites on one machine).
    wait_until_ready(proxy, lambda url: proxy_alive(url) and listens(proxy, port), timeout)
    assert isinstance(proxy, Proxy)
    return proxy


def restart_proxy(proxy: Proxy, timeout: float = 180.0) -> None:
    """Start a proxy that has exited again: the same release, config and environment, on its own port, so whatever
    holds its URL (settings, an app server's environment) keeps working. Its new process and log replace the old."""
    assert not proxy.running(), "stop it first"
    again = start_proxy(proxy.config, version=proxy.version, env=proxy.extra_env, port=proxy.port, timeout=timeout)
    proxy.process, proxy.log_path = again.process, again.log_path


def listens(service: services.Service, port: int) -> bool:
    """A process of the service's process group holds the socket listening on 127.0.0.1:port (Linux /proc)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                sockets.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getpgid(int(pid)) != service.process.pid:
                continue
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in sockets for fd in os.listdir(f"/proc/{pid}/fd")):
                return True
        except OSError:  # gone, or not ours to read
            continue
    return False


def settings_for(proxy: services.Proxy, key: str | None = None, **env: str) -> Settings:
    """The app's settings pointing at this proxy, with its master key (or `key`) and any other settings given,
    and nothing from the environment, `.env` or secrets.toml."""
    return load_settings({"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url,
                          "LITELLM_API_KEY": key if key is not None else proxy.master_key, **env},
                         secrets={}, dotenv_path=None)
