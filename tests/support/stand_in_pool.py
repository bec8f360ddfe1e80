"""A stand-in for the vision pool (app.extensions["kiosk_vision_pool"]): its ``ready()`` and
``stats()`` — the interface /metrics and /readyz read — without any process."""
from __future__ import annotations


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
