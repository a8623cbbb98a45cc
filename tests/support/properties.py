"""How many examples a property test (Hypothesis) tries.

Each test writes its count for the whole suite: `@settings(max_examples=examples(400))`. The count follows the loaded
profile's `max_examples` against Hypothesis's default of 100: the whole count in `make test` (the default profile), a
quarter in `make test-pure` (`--hypothesis-profile=quick`, registered here), so the quick loop stays quick while the
full run keeps every example.
"""

from __future__ import annotations

from hypothesis import settings

QUICK = "quick"
settings.register_profile(QUICK, max_examples=25)


def examples(count: int) -> int:
    """`count` scaled by the loaded profile: `count` by default, a quarter under `quick`."""
    return max(1, count * settings.default.max_examples // 100)
