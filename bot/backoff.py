"""How long to wait before trying a channel again: longer each time, never all at once."""

from __future__ import annotations

import random

FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 300.0


def retry_delay(failures: int, first: float = FIRST_RETRY_SECONDS) -> float:
    """first, 2×, 4× … up to 5 minutes, each between half and the whole of it: a city's
    processes restarted together do not all knock at the same moment."""
    ceiling = min(LONGEST_RETRY_SECONDS, first * 2 ** max(failures - 1, 0))
    return ceiling * (0.5 + 0.5 * random.random())
