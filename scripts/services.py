"""Start local servers as child processes in their own process group, wait until they answer, stop them cleanly.

Used by `make run` (scripts/run_stack.py), the tests (tests/support/proxy.py) and the benchmarks.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
MASTER_KEY = "sk-test-master-key-0123456789"  # the tests' proxy key; `make run` generates its own into .env
PROXY_DEFAULTS = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False",
                  "DISABLE_SCHEMA_UPDATE": "True"}


@dataclass
class Service:
    """A server running as a child process in its own process group, logging to a file."""

    name: str
    base_url: str
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        """Where to open it (the same as base_url)."""
        return self.base_url

    def running(self) -> bool:
        """The child has not exited."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the log."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole process group, then SIGKILL it if it has not exited within `timeout` seconds."""
        if self.running():
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait(timeout=5)
        _signal_group(self.process, signal.SIGKILL)  # anything the leader left behind in its group


@dataclass
class Proxy(Service):
    """A running LiteLLM proxy and the master key it accepts."""

    master_key: str = MASTER_KEY


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Something accepts connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def litellm_executable() -> str:
    """The `litellm` command of this interpreter's environment, else the one on PATH."""
    beside = Path(sys.executable).with_name("litellm")
    return str(beside) if beside.exists() else (shutil.which("litellm") or "litellm")


def answers(url: str, expected_text: str | None = None, timeout: float = 1.0) -> bool:
    """GET url answers 200 (and, if given, exactly `expected_text`)."""
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and (expected_text is None or response.text == expected_text)


def proxy_alive(base_url: str) -> bool:
    """A LiteLLM proxy answers its liveness probe at base_url."""
    return answers(f"{base_url.rstrip('/')}/health/liveliness")


def demo_alive(base_url: str) -> bool:
    """The demo upstream (demo/upstream.py) answers its health probe at base_url."""
    return answers(f"{base_url.rstrip('/')}/health", '{"status": "ok"}')


def app_healthy(base_url: str) -> bool:
    """A Streamlit server answers its health probe at base_url."""
    return answers(f"{base_url.rstrip('/')}/_stcore/health", "ok")


def launch(name: str, argv: Sequence[str], base_url: str, *, env: Mapping[str, str], cwd: Path = ROOT,
           log_path: Path | None = None, service: type[Service] = Service, **fields: object) -> Service:
    """Start argv in a new process group with its output in a log file; do not wait for it."""
    if log_path is None:
        log_path = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return service(name, base_url, process, log_path, **fields)


def wait_until_ready(service: Service, ready: Callable[[str], bool], timeout: float,
                     cancelled: Callable[[], bool] = lambda: False) -> None:
    """Poll `ready(base_url)` until it holds or `cancelled()`; raise with the log's tail if the child exits or
    time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cancelled():
        if not service.running():
            raise RuntimeError(f"{service.name} exited with {service.process.returncode}:\n{service.log_tail()}")
        if ready(service.base_url):
            return
        time.sleep(0.25)
    if cancelled():
        return
    service.stop()
    raise RuntimeError(f"{service.name} did not answer within {timeout:.0f} s:\n{service.log_tail()}")


def proxy_environment(master_key: str, extra: Mapping[str, str] | None = None,
                      base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The proxy's environment: base (os.environ), offline-friendly defaults, the master key, then extra."""
    env = {**PROXY_DEFAULTS, **(os.environ if base is None else base)}
    env.update({"LITELLM_MASTER_KEY": master_key, **(extra or {})})
    return env


def launch_proxy(config: str | Path, *, port: int, master_key: str, env: Mapping[str, str],
                 log_path: Path | None = None) -> Proxy:
    """Start `litellm --config config` on 127.0.0.1:port with exactly this environment; do not wait for it."""
    argv = [litellm_executable(), "--config", str(config), "--port", str(port), "--host", "127.0.0.1",
            "--num_workers", "1"]
    proxy = launch("litellm", argv, f"http://127.0.0.1:{port}", env={**env, "LITELLM_MASTER_KEY": master_key},
                   log_path=log_path, service=Proxy, master_key=master_key)
    assert isinstance(proxy, Proxy)
    return proxy


def start_proxy(config: str | Path, *, port: int | None = None, master_key: str = MASTER_KEY,
                env: dict[str, str] | None = None, timeout: float = 180.0) -> Proxy:
    """Start a proxy with no database on a free loopback port and wait until it answers. Raises if it does not."""
    child_env = proxy_environment(master_key, {**PROXY_DEFAULTS, **(env or {})})
    child_env.pop("DATABASE_URL", None)
    proxy = launch_proxy(config, port=port or free_port(), master_key=master_key, env=child_env)
    wait_until_ready(proxy, proxy_alive, timeout)
    return proxy


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
