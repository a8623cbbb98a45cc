"""A LiteLLM custom callback for the test proxy: one JSON line per call, saying who LiteLLM thought it was for.

tests/proxy_config.yaml loads it (`litellm_settings.callbacks: attribution_callback.recorder`; LiteLLM imports it
from the config file's folder, inside the proxy process). Each line: the call id, the model group, success or
failure, `end_user` (the request's OpenAI `user` field), the request's tags and the metadata the caller sent.

The file is `$LITELLM_CALLBACK_LOG` when set, else `litellm-callback-<proxy pid>.jsonl` in the temporary folder,
so a test that did not start the proxy itself finds it from the proxy's process id (`callback_log(pid)`).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

ENV = "LITELLM_CALLBACK_LOG"


def callback_log(pid: int | None = None) -> Path:
    """Where the proxy with process id `pid` (default: this process) writes its lines."""
    if os.environ.get(ENV) and pid is None:
        return Path(os.environ[ENV])
    return Path(tempfile.gettempdir()) / f"litellm-callback-{pid or os.getpid()}.jsonl"


def read_calls(path: Path) -> list[dict[str, Any]]:
    """Every call recorded so far (an empty list before the first)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class AttributionRecorder(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def _record(self, kwargs: dict[str, Any], status: str) -> None:
        payload = kwargs.get("standard_logging_object") or {}
        metadata = payload.get("metadata") or {}
        line = {"call_id": payload.get("litellm_call_id") or kwargs.get("litellm_call_id"),
                "model_group": payload.get("model_group"), "status": status,
                "end_user": payload.get("end_user"), "request_tags": payload.get("request_tags"),
                "requester_metadata": metadata.get("requester_metadata"), "user": kwargs.get("user")}
        with self._lock, callback_log().open("a") as out:
            out.write(json.dumps(line, default=str) + "\n")

    async def async_log_success_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        self._record(kwargs, "success")

    async def async_log_failure_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        self._record(kwargs, "failure")


recorder = AttributionRecorder()
