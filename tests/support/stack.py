"""`make run` (scripts/run_stack.py) as the tests start it: the script as a child process on free ports, with its
own .env and logs, its output collected line by line (tests/test_run_stack.py, and the guide's examples run against
a fresh stack in tests/test_api_guide.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gateway.config import NAMES
from scripts.services import free_port
from tests.support.app import ROOT

STACK_ENV = (*NAMES, "LITELLM_MASTER_KEY", "PROXY_PORT", "APP_PORT", "DEMO_PORT", "DEMO_API_BASE", "ENV_FILE",
             "DATABASE_URL")
URL_LINE = re.compile(r"Open (http://\S+)")


class StackRun:
    """`python -m scripts.run_stack` as a child process, its output collected line by line."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.proxy_port, self.app_port, self.demo_port = free_port(), free_port(), free_port()
        self.env_file = tmp_path / ".env"
        child_env = {k: v for k, v in os.environ.items() if k not in STACK_ENV}
        child_env.update({"PROXY_PORT": str(self.proxy_port), "APP_PORT": str(self.app_port),
                          "DEMO_PORT": str(self.demo_port), "ENV_FILE": str(self.env_file), "PYTHONUNBUFFERED": "1",
                          **env})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scripts.run_stack", "--log-dir", str(tmp_path / "logs")], cwd=ROOT,
            env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for_url(self, timeout: float = 240.0) -> str:
        """The URL the script prints once both servers answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := URL_LINE.search(self.output):
                return found.group(1)
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                pytest.fail(f"run_stack exited with {self.process.returncode}:\n{self.output}")
            time.sleep(0.2)
        pytest.fail(f"run_stack printed no URL within {timeout:.0f} s:\n{self.output}")

    def children(self) -> dict[int, str]:
        """The script's child processes: pid → command line."""
        found = {}
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent == self.process.pid:
                    found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, ValueError, IndexError):
                continue
        return found

    def interrupt(self, timeout: float = 30.0) -> int:
        """Ctrl-C: SIGINT the script and wait for it to exit."""
        self.process.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def wait(self, timeout: float = 30.0) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """Cleanup after a failed test: the script stops its children on SIGTERM."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
