"""Stand-ins for the vision pool (app.extensions["kiosk_vision_pool"]): its ``ready()`` and
``stats()`` — the interface /metrics and /readyz read — without any process; and an inline
pool that records the jobs it runs."""
from __future__ import annotations

from kiosk.vision.pool import InlinePool


class RecordingPool(InlinePool):
    """The inline pool, noting each job as (kind, args, affinity) in ``seen``."""

    def __init__(self, engine, seen: list):
        super().__init__(engine)
        self.seen = seen

    def run(self, kind, fn, *args, affinity=None):
        self.seen.append((kind, args, affinity))
        return super().run(kind, fn, *args)


class StandInPool:
    """What the vision pool's stats() answers (its interface), without processes."""

    def __init__(self, ready=True, broken=False):
        self._ready, self.broken = ready, broken

    def ready(self):
        return self._ready

    def stats(self):
        if self.broken:
            raise OSError("pool gone")
        return {"workers": 2, "queued": 3, "running": 2, "rejected_total": 7,
                "jobs_total": {"face": 11, "card": 5}, "seconds_total": {"face": 9.5, "card": 2.0},
                "ready": self._ready}
