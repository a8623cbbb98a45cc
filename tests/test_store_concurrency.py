"""Two app processes on one database, writing at the same time (the way a team runs replicas): no turn is lost, and
what one process saved opens in the other."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.store import Store

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS, ROUNDS = 8, 12

WRITER = """
import json, sys, time
from gateway.conversation import Conversation
from gateway.reply import Metrics, Outcome, Reply
from gateway.store import Store
url, name = sys.argv[1], sys.argv[2]
start, conversations, rounds = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
store = Store.open(url)
convs = [Conversation("chat", models=["m"]) for _ in range(conversations)]
for conv in convs:
    conv.id = f"{name}-{convs.index(conv)}"
time.sleep(max(0.0, start - time.time()))
for r in range(rounds):  # turn by turn, every conversation, as analysts on one replica would
    for conv in convs:
        conv.add_prompt(f"{name} prompt {r}").add(Reply("m", f"{name} reply {r} " + "x" * 500, Outcome.COMPLETE,
                                                        Metrics(cost=0.001)))
        store.save_round(conv, r, "team")
        time.sleep(0.001)
drained = store.flush(60)
print(json.dumps({"drained": drained, "ok": store.status().ok, "lost": store.status().lost,
                  "message": store.status().message}))
store.close()
"""


@pytest.mark.processes
def test_two_processes_writing_at_once_lose_no_turn(database_url: str) -> None:
    Store.open(database_url).close()  # migrated once (the start-up race has its own test)
    start = time.time() + 3.0
    children = [subprocess.Popen([sys.executable, "-c", WRITER, database_url, name, str(start), str(CONVERSATIONS),
                                  str(ROUNDS)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for name in ("replica-a", "replica-b")]
    for child in children:
        out, err = child.communicate(timeout=180)
        assert child.returncode == 0, err[-3000:]
        result = json.loads(out.strip().splitlines()[-1])
        assert result == {"drained": True, "ok": True, "lost": 0, "message": ""}, result

    store = Store.open(database_url)  # a third process: sees everything both wrote
    try:
        summaries = store.history("team", limit=100)
        assert len(summaries) == 2 * CONVERSATIONS
        assert all(s.turns == ROUNDS and abs(s.cost - ROUNDS * 0.001) < 1e-9 for s in summaries)
        for name in ("replica-a", "replica-b"):
            for i in range(CONVERSATIONS):
                conv = store.load(f"{name}-{i}", "team")
                assert [r.prompt for r in conv.rounds] == [f"{name} prompt {r}" for r in range(ROUNDS)]
                assert [r.reply().text for r in conv.rounds] == \
                    [f"{name} reply {r} " + "x" * 500 for r in range(ROUNDS)]
        assert len(store.history("team", search="replica")) == 2 * CONVERSATIONS
    finally:
        store.close()
