"""The app's server as the tests start it: `streamlit run streamlit_app.py` on a free loopback port with exactly the
settings a test gives (nothing of the developer's environment or .env leaks in), each with a database of its own.

`start_app` is the one way a test starts the app, browser or not (the API tests, the browser tests, the benchmarks);
`app` is one such server for the whole session, pointing at the test proxy (registered in tests/conftest.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import NAMES
from scripts.services import Service, app_healthy, launch, wait_until_ready
from tests.support.proxy import Proxy, free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0  # seconds to /_stcore/health: ~5 s on a quiet machine, far more beside CPU hogs


def start_app(env: dict[str, str], *, port: int | None = None, secrets_file: Path | None = None,
              timeout: float = START_TIMEOUT) -> Service:
    """Start the app on `port` (default: a free one) with exactly these app settings (and this secrets file), and
    wait for /_stcore/health."""
    port = port or free_port()
    child_env = {k: v for k, v in os.environ.items() if k not in NAMES}
    child_env["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='dashboard-db-')}/dashboard.db"
    child_env.update(env)
    argv = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    if secrets_file is not None:
        argv += ["--secrets.files", str(secrets_file)]
    server = launch("streamlit", argv, f"http://127.0.0.1:{port}", env=child_env, cwd=ROOT)
    wait_until_ready(server, app_healthy, timeout)
    return server


def proxy_env(proxy: Proxy) -> dict[str, str]:
    """The app settings that point it at `proxy`."""
    return {"LITELLM_ENABLED": "true", "LITELLM_BASE_URL": proxy.base_url, "LITELLM_API_KEY": proxy.master_key}


@pytest.fixture(scope="session")
def app(proxy: Proxy) -> Iterator[Service]:
    """One app server for the session, pointing at the test proxy."""
    server = start_app(proxy_env(proxy))
    yield server
    server.stop()
