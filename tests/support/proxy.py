"""Start a real LiteLLM proxy on a free loopback port, for tests, benchmarks and `make run`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

MASTER_KEY = "sk-test-master-key-0123456789"


@dataclass
class Proxy:
    """A running proxy."""

    base_url: str
    master_key: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def litellm_executable() -> str:
    beside = Path(sys.executable).with_name("litellm")
    return str(beside) if beside.exists() else (shutil.which("litellm") or "litellm")


def start_proxy(config: str | Path, *, port: int | None = None, master_key: str = MASTER_KEY,
                env: dict[str, str] | None = None, timeout: float = 180.0) -> Proxy:
    """Start `litellm --config config` on 127.0.0.1 and wait until it answers. Raises if it does not."""
    port = port or free_port()
    log_path = Path(tempfile.mkstemp(prefix="litellm-", suffix=".log")[1])
    child_env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_MASTER_KEY": master_key,
                 "LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False", "DISABLE_SCHEMA_UPDATE": "True",
                 **(env or {})}
    child_env.pop("DATABASE_URL", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [litellm_executable(), "--config", str(config), "--port", str(port), "--host", "127.0.0.1",
             "--num_workers", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=child_env, start_new_session=True)
    proxy = Proxy(f"http://127.0.0.1:{port}", master_key, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"litellm exited with {process.returncode}:\n{proxy.log_tail()}")
        try:
            if httpx.get(f"{proxy.base_url}/health/liveliness", timeout=1.0).status_code == 200:
                return proxy
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proxy.stop()
    raise RuntimeError(f"litellm did not answer within {timeout:.0f} s:\n{proxy.log_tail()}")
