"""A judge pass on its own thread, with a progress bar: how the judge sections (a run's pairwise pass, its rubric and
reference scores, a compare round) wait for their calls and say how it went."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from gateway.errors import GatewayError
from gateway.evaluation.judge_run import Progress
from ui.markdown import plain

POLL = 0.25  # seconds between progress redraws while a pass runs

T = TypeVar("T")


def run_with_progress(work: Callable[[Callable[[Progress], None]], T], *, name: str, starting: str, done: str,
                      unit: str = "") -> tuple[T, Any] | None:
    """`work(on_progress)` on a thread named `name` (its calls go `EVAL_CONCURRENCY` at a time), a bar redrawn every
    POLL seconds ("{done} 3 of 10{unit}"): its result and the bar, or None after showing the error that ended it."""
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["found"] = work(lambda p: result.__setitem__("live", p))
        except GatewayError as error:
            result["error"] = error

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    bar = st.progress(0.0, text=starting)
    while worker.is_alive():
        worker.join(POLL)
        live = result.get("live")
        if isinstance(live, Progress) and live.total:
            bar.progress(live.done / live.total, text=f"{done} {live.done:,} of {live.total:,}{unit}")
    if "error" in result:
        st.error(plain(str(result["error"])), icon=":material/error:")
        return None
    return result["found"], bar  # type: ignore[return-value]


def pass_warnings(progress: Progress) -> None:
    """Why a pass stopped early (the budget), and why some of its calls were not sent."""
    if progress.stopped:
        st.warning(plain(progress.stopped), icon=":material/account_balance_wallet:")
    if progress.refused:
        st.warning(plain(f"Some judge calls were not sent: {progress.refused}"), icon=":material/block:")
