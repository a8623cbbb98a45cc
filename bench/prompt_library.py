"""Prompt library benchmark: what the picker's read costs a Compare or Chat page run.

The picker beside the prompt box lists the analyst's own prompts and the team's shared ones on every full page run
(`PromptLibrary.listed`, gateway/store/prompts.py), kept for a few seconds. Measured on SQLite, for libraries of
several sizes: the median of `listed()` reading the database and answered from the kept list, beside the same query
through the database's own client (`sqlite3`), and the ratios.

Run by hand: `python -m bench.prompt_library [--sizes 20,300,2000] [--repeat 300]`.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable

from gateway import cache
from gateway.prompt_library import draft
from gateway.store import Store
from gateway.store.prompts import PromptLibrary

ANALYSTS = 20
RAW = ("SELECT * FROM prompt_library WHERE owner = ? OR shared ORDER BY CASE WHEN owner = ? THEN 0 ELSE 1 END, "
       "lower(name), pk LIMIT 2000")


def median_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(size: int, repeat: int) -> None:
    folder = tempfile.mkdtemp(prefix="bench-prompts-")
    store = Store.open(f"sqlite:///{folder}/store.db")
    library = PromptLibrary(store)
    for i in range(size):
        library.add(f"a{i % ANALYSTS}@example.com", draft(f"prompt {i}", "Explain {{topic}} to {{reader}}. " * 10,
                                                         tags="sql, teaching", shared=i % 2 == 0))
    me = "a1@example.com"

    def read() -> object:
        cache.clear_all()  # the database's read, not the kept list
        return library.listed(me)

    visible = len(library.listed(me))  # type: ignore[arg-type]
    cold = median_ms(read, repeat)
    kept = median_ms(lambda: library.listed(me), repeat)
    connection = sqlite3.connect(f"{folder}/store.db")
    raw = median_ms(lambda: connection.execute(RAW, (me, me)).fetchall(), repeat)
    print(f"{size:>5} saved, {visible:>4} visible: listed() read {cold:6.2f} ms, kept {kept:5.3f} ms; sqlite3 "
          f"{raw:5.2f} ms (read {cold / raw:.0f}x, kept {kept / raw:.2f}x)")
    connection.close()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,300,2000", help="prompts saved in all (half of them shared)")
    parser.add_argument("--repeat", type=int, default=300)
    options = parser.parse_args()
    for size in options.sizes.split(","):
        measure(int(size), options.repeat)


if __name__ == "__main__":
    main()
