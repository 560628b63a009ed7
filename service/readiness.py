"""Readiness: a worker is ready when it can answer at once, that is when its encoder's model is loaded and the
events it will be asked about are in memory (their matchers built from the stored vectors).

:meth:`Readiness.start` warms the process up on a daemon thread: the model first (one text encoded, nothing
stored: the cache key settles its precision on load, so events load under the final key), then the
``WARM_EVENTS`` most recently written events. ``matchmaker serve`` starts it in each worker as it boots; otherwise
the first ``/readyz`` does. ``/readyz`` answers 503 (with what is still loading and ``Retry-After``) until it is
done; an event created later loads on its first request, as before.

>>> r = Readiness(None, None)
>>> r.state, r.detail
('idle', 'not started')
"""

from __future__ import annotations

import logging
import threading
import time

from models import MatchmakerError

log = logging.getLogger("matchmaker.service")


class Readiness:
    """The warm-up of one process: ``state`` idle, loading, ready or failed; ``detail`` says what it is doing."""

    def __init__(self, store, registry, *, max_events: int = 20):
        self.store = store
        self.registry = registry
        self.max_events = max_events
        self.state = "idle"
        self.detail = "not started"
        self.seconds_: float | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        """Start the warm-up (once); the thread running it."""
        with self._lock:
            if self._thread is None or self.state == "failed":  # a failed warm-up (database down) runs again
                self.state, self.detail = "loading", "starting"
                self._thread = threading.Thread(target=self._run, name="matchmaker-warm-up", daemon=True)
                self._thread.start()
            return self._thread

    def wait(self, timeout: float | None = None) -> str:
        """Start if needed and wait up to ``timeout`` seconds; the state then."""
        self.start().join(timeout)
        return self.state

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            enc = self.registry.encoder  # the process's model, behind one cache per tenant
            self.detail = f"loading the model {enc.model_id}"
            enc.model.encode(["warm-up"])  # loads the model; the vector is not stored
            rows = self.store.recent_events(self.max_events)
            for i, row in enumerate(rows, 1):
                self.detail = f"loading event {i} of {len(rows)} into memory"
                self.registry.use(row)
        except MatchmakerError as exc:  # our own messages (e.g. the model cannot load) name no attendee data
            log.error("warm-up failed: %s", exc)
            self.state, self.detail = "failed", f"warm-up failed: {exc}"
            return
        except Exception as exc:  # no message text: it may quote data; the log has the kind
            log.error("warm-up failed: %s", type(exc).__name__)
            self.state, self.detail = "failed", f"warm-up failed ({type(exc).__name__}); see the log"
            return
        self.seconds_ = time.perf_counter() - t0
        self.state, self.detail = "ready", "ready"
