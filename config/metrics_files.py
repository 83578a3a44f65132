"""The folder of prometheus_client's multiprocess mode, kept from growing without end.

With ``PROMETHEUS_MULTIPROC_DIR`` set, every gunicorn worker writes its counters and
histograms to files of its own in that folder, and a scrape of any worker adds up every
file (``MultiProcessCollector``), so one scrape covers the whole server. A worker that
exits leaves its files behind, which keeps its counts in the sum, as it must. But gunicorn
replaces each worker every ``GUNICORN_MAX_REQUESTS`` requests, so the files would pile up
by two per thousand requests, and every scrape reads them all: a busy server's scrapes
would slow down day after day.

So gunicorn's master, when a worker has exited (``child_exit`` in
``config/gunicorn.conf.py``), adds that worker's counts to one archive file per kind and
deletes the worker's own. Scrapes read the folder under a shared lock and the archiving
takes it exclusively, so no scrape ever sees a count twice or not at all (a counter that
seemed to go down would read as a reset, and a false spike in every rate).

Imported by gunicorn's master before or without Django: nothing here may need settings.
"""

import fcntl
import glob
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

LOCK_NAME = ".lock"
ARCHIVE_PID = "archive"
# Kinds whose values add up across processes (a histogram's buckets are stored one by one,
# not cumulated). Gauges are not archived: mark_process_dead deals with the live ones.
SUMMED_KINDS = ("counter", "histogram", "summary")


@contextmanager
def locked(directory: str, *, shared: bool) -> Iterator[None]:
    """Hold the folder's lock: shared while reading it, exclusive while archiving."""
    with open(os.path.join(directory, LOCK_NAME), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def reset_directory(directory: str) -> None:
    """Start a server with no counts (gunicorn's ``on_starting``): prometheus_client asks
    for the folder to be emptied between runs, or a new server would add up the last one's
    files with its own. Only the files this mode writes are removed."""
    os.makedirs(directory, exist_ok=True)
    with locked(directory, shared=False):
        for path in glob.glob(os.path.join(directory, "*.db")) + glob.glob(os.path.join(directory, "*.tmp")):
            os.remove(path)


def archive_dead_process(directory: str, pid: int) -> None:
    """Fold the files of worker ``pid``, which has exited, into the archive files."""
    with locked(directory, shared=False):
        mark_process_dead(pid, directory)
        for kind in SUMMED_KINDS:
            dead = os.path.join(directory, f"{kind}_{pid}.db")
            if not os.path.exists(dead):
                continue
            archive = os.path.join(directory, f"{kind}_{ARCHIVE_PID}.db")
            totals: dict[str, float] = defaultdict(float)
            for path in (archive, dead):
                if os.path.exists(path):
                    for key, value, _timestamp, _position in MmapedDict.read_all_values_from_file(path):
                        totals[key] += value
            # Written aside and renamed over the archive: a crash half-way leaves the old
            # archive and the dead worker's file, which still add up to the truth.
            temporary = f"{archive}.tmp"
            merged = MmapedDict(temporary)
            try:
                for key, value in totals.items():
                    merged.write_value(key, value, 0.0)
            finally:
                merged.close()
            os.replace(temporary, archive)
            os.remove(dead)


class LockedMultiProcessCollector:
    """``MultiProcessCollector`` reading the folder under the shared lock."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def collect(self) -> Iterable[Metric]:
        with locked(self.directory, shared=True):
            # merge() reads every file before it returns: nothing is read after the lock.
            return MultiProcessCollector(None, self.directory).collect()
