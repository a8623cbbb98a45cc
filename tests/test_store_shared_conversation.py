"""One conversation open in two places at once (two tabs, or two replicas behind a load balancer): both send prompts
and save their rounds at the same moment. No round is lost, none overwrites another, and every process ends up with
the same order: by when each prompt was sent (then by the round's key). See the rules in gateway/store/queries.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.store import Store

pytestmark = pytest.mark.processes  # two writer processes

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 15
SHARED = "shared-conversation"

WRITER = """
import json, sys, time
from gateway.conversation import Conversation
from gateway.reply import Metrics, Outcome, Reply
from gateway.store import Store, queries
url, name, conversation_id, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
streaming = float(sys.argv[5])  # seconds between sending a prompt and saving its round (the reply streaming)
moved = 0
place = queries.place

def counted(*args):  # how often a round went before one the other process had saved (the rounds after it moved)
    global moved
    found = place(*args)
    moved += found[1]
    return found

queries.place = counted
store = Store.open(url)
conv = Conversation("chat", models=["m"], id=conversation_id)  # the same id in both processes: one conversation
print("ready", flush=True)
sys.stdin.readline()  # both go at once
for r in range(rounds):
    round_ = conv.add_prompt(f"{name} prompt {r}")
    time.sleep(streaming)
    round_.add(Reply("m", f"{name} reply {r}", Outcome.COMPLETE, Metrics(cost=0.001)))
    store.save_round(conv, r, "team")
    if r % 3 == 2:  # another run of a round the other process may have moved meanwhile: saved in place, wherever it is
        time.sleep(0.002)
        round_.add(Reply("m", f"{name} reply {r} run 2", Outcome.COMPLETE, Metrics(cost=0.001), run=2))
        store.save_round(conv, r, "team")
drained = store.flush(60)
status = store.status()
print(json.dumps({"drained": drained, "ok": status.ok, "lost": status.lost, "message": status.message,
                  "keys": [r.key for r in conv.rounds], "moved": moved}))
store.close()
"""


def test_two_processes_adding_rounds_to_one_conversation_keep_every_round(database_url: str) -> None:
    Store.open(database_url).close()  # migrated once (the start-up race has its own test)
    names = ("tab-a", "tab-b")  # a's replies take longer: b saves rounds a sent earlier than b's, and a's go first
    children = [subprocess.Popen([sys.executable, "-c", WRITER, database_url, name, SHARED, str(ROUNDS), str(streaming)],
                                 cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for name, streaming in zip(names, (0.03, 0.002))]
    for child in children:  # started, imported and connected
        assert child.stdout.readline().strip() == "ready", child.stderr.read()[-3000:]
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    keys: dict[str, list[str]] = {}
    moved = 0
    for name, child in zip(names, children):
        out, err = child.communicate(timeout=180)
        assert child.returncode == 0, err[-3000:]
        result = json.loads(out.strip().splitlines()[-1])
        keys[name], moved = result.pop("keys"), moved + result.pop("moved")
        assert result == {"drained": True, "ok": True, "lost": 0, "message": ""}, result
    assert moved > 0  # the writes did interleave: rounds went before rounds already saved in their place

    store = Store.open(database_url)  # a third process: sees every round of both
    try:
        conv = store.load(SHARED, "team")
        prompts = [r.prompt for r in conv.rounds]
        assert sorted(prompts) == sorted(f"{name} prompt {r}" for name in names for r in range(ROUNDS)), prompts
        for round_ in conv.rounds:  # each round with its own replies, every run of it
            name, _, r = round_.prompt.split()
            expected = [f"{name} reply {r}"] + ([f"{name} reply {r} run 2"] if int(r) % 3 == 2 else [])
            assert [reply.text for reply in round_.runs["m"]] == expected, round_.prompt
        assert [r.key for r in conv.rounds] == [r.key for r in sorted(conv.rounds, key=lambda r: (r.created_at,
                                                                                                   r.key))]
        for name in names:  # each process's rounds in the order it sent them, under the keys it gave them
            own = [r for r in conv.rounds if r.prompt.startswith(name)]
            assert [r.prompt for r in own] == [f"{name} prompt {r}" for r in range(ROUNDS)]
            assert [r.key for r in own] == keys[name]
        (summary,) = store.history("team")
        assert summary.turns == 2 * ROUNDS
        assert abs(summary.cost - 2 * (ROUNDS + ROUNDS // 3) * 0.001) < 1e-9
    finally:
        store.close()
