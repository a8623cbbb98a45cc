"""Attachments benchmark: preparing a file for sending (gateway.attachments.prepare) against the library call alone.

- A 12-megapixel photo (4,000×3,000 JPEG with texture and noise, like a camera's): `prepare` (decode, downscale to
  ≤ 2,048 px, re-encode) against Pillow decoding it at full size (`Image.open().load()`), and the data URL it becomes.
- A 50,000-row CSV (six columns: ids, floats, dates, words): `prepare` (pandas parse, CSV text cut to fit) against
  `pandas.read_csv` alone.
Each is timed `--repeat` times (median and best); peak memory is tracemalloc's peak during one `prepare` (Python and
numpy/Pillow allocations that tracemalloc sees). Target: ≤ 300 ms each on the 2-core machine.

Run by hand: `python -m bench.attachments [--repeat 7]`.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd
from PIL import Image

from gateway.attachments import prepare


def photo() -> bytes:
    y, x = np.mgrid[0:3000, 0:4000]
    rng = np.random.default_rng(1)
    pixels = np.stack([(x / 16) % 256, (y / 12) % 256, ((x + y) / 28) % 256], -1) + rng.normal(0, 12, (3000, 4000, 3))
    out = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype("uint8")).save(out, "JPEG", quality=90)
    return out.getvalue()


def table() -> bytes:
    rng = np.random.default_rng(2)
    n = 50_000
    frame = pd.DataFrame({"id": np.arange(n), "amount": rng.normal(100, 30, n).round(2),
                          "ratio": rng.random(n), "day": pd.date_range("2020-01-01", periods=n, freq="h").date,
                          "region": rng.choice(["north", "south", "east", "west"], n),
                          "units": rng.integers(0, 1000, n)})
    return frame.to_csv(index=False).encode()


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, min(times) * 1000


def peak(work: Callable[[], object]) -> float:
    tracemalloc.start()
    work()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    jpeg, csv = photo(), table()

    def decode() -> None:
        with Image.open(io.BytesIO(jpeg)) as image:
            image.load()

    cases = [("12 MP photo", f"{len(jpeg) / 2**20:.1f} MB JPEG", lambda: prepare("photo.jpg", jpeg), "Pillow decode",
              decode),
             ("50,000-row CSV", f"{len(csv) / 2**20:.1f} MB", lambda: prepare("rows.csv", csv), "pandas.read_csv",
              lambda: pd.read_csv(io.BytesIO(csv)))]
    for name, size, ours, base_name, base in cases:
        ours(), base()  # warm: imports, caches
        median, best = timed(ours, args.repeat)
        base_median, _ = timed(base, args.repeat)
        result = ours()
        print(f"{name} ({size}): prepare median {median:.0f} ms (best {best:.0f} ms), peak {peak(ours):.0f} MB; "
              f"{base_name} alone {base_median:.0f} ms → ratio {median / base_median:.2f}×; {result.facts}, "
              f"≈ {result.tokens:,} tokens, {result.stored_bytes / 2**20:.2f} MB to send/store")


if __name__ == "__main__":
    main()
