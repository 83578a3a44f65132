"""Helpers for the security tests: releasing many requests at once."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def run_at_once(count: int, request: Callable[[int], T]) -> list[T]:
    """Run ``request(i)`` in ``count`` threads released together by a barrier. Each thread
    has its own database connection, as separate gunicorn workers would."""
    barrier = Barrier(count)

    def worker(i: int) -> T:
        try:
            barrier.wait(timeout=10)
            return request(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))
