"""The background worker of an evaluation run, owned by the app process (not by a page's script thread).

`start(...)` claims the run in the database and starts it; pages find it again with `running(owner, run_id)` and only
read its `progress()` (a page rerun never waits for a call). The worker sends at most `concurrency` calls at once
(`EVAL_CONCURRENCY`), each a stream through the one sending door (`gateway.sending.send_chat`: the prompt's limits,
the context window, the analyst's budget and attribution), so TTFT and tokens/s are measured as on the compare page
and every call reaches the proxy with the analyst's `user`. Each cell is saved as soon as it ends (into the usage
ledger too); a cell that was still streaming when the run stopped is not saved, so a resume sends exactly the cells
without a saved reply.

Budgets: a run (or a resume) does not start when the quote of its missing cells does not fit what is left of the
analyst's monthly budget (`budget_refusal`, in words); while it runs, each cell reserves its expected cost when it is
sent, and the first cell the budget refuses stops the run ("stopped", resumable) with the refusal as its message.

Rate limits: a 429 pauses that model's calls for the time the answer asks (`Retry-After`, else 1 s doubling up to
`MAX_BACKOFF`) and the cell is tried again, up to `MAX_ATTEMPTS` calls; then its failure is its result.
When the proxy cannot be reached (or refuses the key) the run pauses as "stopped" with the reason, and nothing about
those cells is saved: resume once it is back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.analyst import is_admin
from gateway.budget import BudgetExceeded
from gateway.chat import client_for
from gateway.config import Settings
from gateway.errors import GatewayError
from gateway.evaluation.quote import remaining_cost
from gateway.evaluation.runs import HEARTBEAT_EVERY, STALE_AFTER, Cell, EvalRun, RunStatus, judge
from gateway.models import ModelRecord
from gateway.reply import Outcome, Reply, ReplyError
from gateway.sending import Sender, Sending, check_spending, send_chat
from gateway.store import Unavailable
from gateway.store.evaluation import Evaluations

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # calls per cell when rate-limited
MAX_CONCURRENCY = 32  # EVAL_CONCURRENCY above this is taken as this (threads, and the proxy's own limits)
FIRST_BACKOFF, MAX_BACKOFF = 1.0, 30.0  # seconds
SAVE_RETRY = 1.0  # seconds between attempts to save a cell while the database does not answer
PAUSING_KINDS = frozenset({"unreachable", "authentication", "configuration", "bad_response"})  # not the model's fault


@dataclass(frozen=True)
class Progress:
    """What a page shows about a running (or just ended) run."""

    done: int  # cells saved, this session and before
    total: int
    running: bool
    elapsed: float  # seconds since this worker started
    eta: float | None  # seconds left at the pace of this session; None until a cell has ended
    unsaved: int = 0  # cells waiting for the database
    message: str = ""  # why it paused, or the database's trouble


class _Stopped(Exception):
    pass


class EvalWorker:
    """One run, worked by `concurrency` threads pulling the missing cells from a queue."""

    def __init__(self, run: EvalRun, owner: str, evaluations: Evaluations, settings: Settings,
                 models: Mapping[str, ModelRecord], concurrency: int) -> None:
        self.run, self.owner, self.evaluations, self.settings = run, owner, evaluations, settings
        self.models = dict(models)
        self.concurrency = max(1, min(concurrency, MAX_CONCURRENCY))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ended = threading.Event()
        self._started = 0.0
        self._done_before = 0
        self._done_now = 0
        self._unsaved = 0
        self._message = ""
        self._not_before: dict[str, float] = {}  # model → when its calls may go again (after a 429)
        self.sender = sender_of(run, owner, settings)
        self._streams: set = set()
        self._todo: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
        self._manager: threading.Thread | None = None

    # --- the page's side ---------------------------------------------------------------------------------------

    def progress(self) -> Progress:
        with self._lock:
            done = self._done_before + self._done_now
            elapsed = time.monotonic() - self._started if self._started else 0.0
            remaining = self.run.cells_total - done
            eta = elapsed / self._done_now * remaining if self._done_now else None
            message = self._message or (f"{self._unsaved} finished cells wait for the database." if self._unsaved
                                        else "")
            return Progress(done, self.run.cells_total, not self._ended.is_set(), elapsed, eta, self._unsaved,
                            message)

    def stop(self) -> None:
        """Stop now: calls in flight are closed and not saved (a resume sends them again)."""
        self._stop.set()
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (finished or stopped); True when it has."""
        return self._ended.wait(timeout)

    @property
    def alive(self) -> bool:
        return not self._ended.is_set()

    # --- running -----------------------------------------------------------------------------------------------

    def start(self, done: set[tuple[int, str]]) -> None:
        missing = self.run.missing(done)
        self._done_before = self.run.cells_total - len(missing)
        for cell in missing:
            self._todo.put(cell)
        self._started = time.monotonic()
        self._manager = threading.Thread(target=self._manage, name=f"eval-{self.run.id[:8]}", daemon=True)
        self._manager.start()

    def _manage(self) -> None:
        workers = [threading.Thread(target=self._work, name=f"eval-{self.run.id[:8]}-{i}", daemon=True)
                   for i in range(self.concurrency)]
        for worker in workers:
            worker.start()
        try:
            while any(w.is_alive() for w in workers):
                for worker in workers:
                    worker.join(timeout=HEARTBEAT_EVERY / len(workers))
                self.evaluations.heartbeat(self.run.id, self.owner, time.time())
            with self._lock:
                complete = self._done_before + self._done_now >= self.run.cells_total
            status = RunStatus.FINISHED if complete else RunStatus.STOPPED
            while isinstance(self.evaluations.set_status(self.run.id, self.owner, status), Unavailable):
                if self._stop.wait(SAVE_RETRY):  # the database is away: keep trying until it is back or a stop
                    break
        except Exception:  # noqa: BLE001 - the thread must end cleanly whatever happens
            log.exception("evaluation: the run %s ended with an error", self.run.id)
        finally:
            self._ended.set()  # (it stays in the registry, ended, so a page can still show why it stopped)

    def _work(self) -> None:
        clients: dict[str, object] = {}
        while not self._stop.is_set():
            try:
                row, key = self._todo.get_nowait()
            except queue.Empty:
                return
            sent: list[Sending] = []  # the cell's calls: each holds its expected cost until the cell is saved
            try:
                cell = self._cell(row, key, clients, sent)
                if cell is not None:
                    self._save(cell)
            except _Stopped:
                return
            finally:
                for sending in sent:
                    sending.settle()

    def _cell(self, row: int, key: str, clients: dict[str, object], sent: list[Sending]) -> Cell | None:
        model = self.models.get(key)
        if model is None:
            reply = Reply(key, outcome=Outcome.FAILED,
                          error=ReplyError(f"{key} is not in the model catalogue any more.", kind="model_not_found"))
            return Cell(row, reply, judge(self.run.rows[row], reply))
        if key not in clients and model.available:
            clients[key] = client_for(model, self.settings)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self._wait_for(key)
            for earlier in sent:  # a retried call's failure cost nothing: only the last one holds the budget
                earlier.settle()
            sent.clear()
            reply, error = self._call(model, row, clients.get(key), sent)
            if self._stop.is_set():
                raise _Stopped
            if isinstance(error, BudgetExceeded):  # not sent: the run stops here, resumable, and says why
                with self._lock:
                    self._message = f"The run stopped at the budget. {error} {error.hint}"
                self._stop.set()
                raise _Stopped
            kind = error.kind if error is not None else ""
            if kind in PAUSING_KINDS:
                with self._lock:
                    self._message = f"The run paused: {error}. Resume once the proxy answers."
                self._stop.set()
                raise _Stopped
            if kind == "rate_limited" and attempt < MAX_ATTEMPTS:
                assert error is not None
                wait = error.retry_after or min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (attempt - 1))
                with self._lock:
                    self._not_before[key] = max(self._not_before.get(key, 0.0), time.monotonic() + wait)
                continue
            return Cell(row, reply, judge(self.run.rows[row], reply), attempt)
        return None  # (not reached)

    def _wait_for(self, key: str) -> None:
        while True:
            with self._lock:
                pause = self._not_before.get(key, 0.0) - time.monotonic()
            if pause <= 0:
                return
            if self._stop.wait(pause):
                raise _Stopped

    def _call(self, model: ModelRecord, row: int, client: object,
              sent: list[Sending]) -> tuple[Reply, GatewayError | None]:
        sending = send_chat(model, self.run.messages(row), self.run.row_params(row), self.settings,
                            self.evaluations.store, self.sender, prompt=self.run.rows[row].prompt,
                            client=client)  # type: ignore[arg-type]
        if isinstance(sending, GatewayError):  # refused before sending: the cell's result says why
            return Reply(model.key, outcome=Outcome.FAILED, error=ReplyError.of(sending)), sending
        sent.append(sending)
        stream = sending.stream
        with self._lock:
            self._streams.add(stream)
        try:
            for _ in stream:
                if self._stop.is_set():
                    break
        finally:
            stream.close()
            with self._lock:
                self._streams.discard(stream)
        return stream.reply, stream.error

    def _save(self, cell: Cell) -> None:
        counted = False
        while True:
            saved = self.evaluations.save_cell(self.run.id, self.owner, cell)
            if not isinstance(saved, Unavailable):
                with self._lock:
                    self._done_now += 1
                    self._unsaved -= counted
                return
            if not counted:
                counted = True
                with self._lock:
                    self._unsaved += 1
            if self._stop.wait(SAVE_RETRY):
                with self._lock:
                    self._unsaved -= 1
                return  # stopped before the database came back: this cell runs again on resume


# --- The process's workers ---------------------------------------------------------------------------------------

_workers: dict[tuple[str, str], EvalWorker] = {}
_workers_lock = threading.Lock()


def sender_of(run: EvalRun, owner: str, settings: Settings) -> Sender:
    """Who a run's calls are for: its analyst (admins, ADMIN_EMAILS, are not held to budgets), tagged `evaluate`
    with the run's id."""
    return Sender(owner, "evaluate", run.id, admin=is_admin(owner, settings))


def budget_refusal(run: EvalRun, owner: str, evaluations: Evaluations, settings: Settings,
                   models: Mapping[str, ModelRecord], done: set[tuple[int, str]] | None = None) -> str | None:
    """Why the run (its cells not in `done`) may not start now for its analyst's budget, in words; None when it
    may. Expected: the missing cells' share of the run's quote (or their estimate when a model has no price)."""
    expected = remaining_cost(run, run.missing(done or set()), models, settings)
    refused = check_spending(sender_of(run, owner, settings), settings, evaluations.store, expected)
    return None if refused is None else f"{refused.message} {refused.hint}"


def running(owner: str, run_id: str) -> EvalWorker | None:
    """This process's worker of the run (alive, or ended: its last progress and message), if it had one."""
    with _workers_lock:
        return _workers.get((owner, run_id))


def start(run: EvalRun, owner: str, evaluations: Evaluations, settings: Settings,
          models: Mapping[str, ModelRecord]) -> EvalWorker | str:
    """Start (or resume) a saved run in the background. A string says why not (it is running elsewhere, or the
    database cannot answer)."""
    with _workers_lock:
        existing = _workers.get((owner, run.id))
        if existing is not None and existing.alive:
            return existing
        now = time.time()
        claimed = evaluations.claim(run.id, owner, now, now - STALE_AFTER)
        if isinstance(claimed, Unavailable):
            return f"The run cannot start: {claimed}"
        if not claimed:
            return "This run is running in another app process: its progress shows here as it is saved."
        cells = evaluations.cells(run.id, owner)
        if isinstance(cells, Unavailable):
            evaluations.set_status(run.id, owner, RunStatus.STOPPED)
            return f"The run cannot start: {cells}"
        refused = budget_refusal(run, owner, evaluations, settings, models, {(c.row, c.model) for c in cells})
        if refused is not None:
            evaluations.set_status(run.id, owner, RunStatus.STOPPED)
            return refused
        worker = EvalWorker(run, owner, evaluations, settings, models, settings.eval_concurrency)
        _workers[(owner, run.id)] = worker
    worker.start({(cell.row, cell.model) for cell in cells})
    return worker
