"""Progress bars for the commands: tqdm on stderr (stdout stays for the summary), silent
at ``--verbosity 0``."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm


def bars(verbosity: int, *, unit: str = "B") -> Any:
    """A ``services.Progress``: ``bars(verbosity)(label, total)`` is a context manager
    yielding a bar with ``update(n)``; in bytes read (``unit="B"``), or in rows."""

    @contextmanager
    def progress(label: str, total: int | None) -> Iterator[tqdm]:
        bar = tqdm(
            total=total,
            desc=f"{label:>13}",
            unit=unit,
            unit_scale=unit == "B",
            file=sys.stderr,
            disable=verbosity == 0,
            dynamic_ncols=True,
        )
        try:
            yield bar
        finally:
            bar.close()

    return progress
