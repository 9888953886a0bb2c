"""When a live session re-transcribes: an adaptive step (pure logic, no clock of its own).

A session steps once `interval` seconds of new audio have arrived and its previous step has
finished. The interval starts at the minimum (`AUDIO_LIVE_STEP_S`) and follows the model's
measured step time (an exponential moving average), never below the minimum nor above
`AUDIO_LIVE_MAX_STEP_S`:

- alone in the process, the interval is the recent step time: a fast machine steps every
  `min_s`, a slow one as soon as the previous step is done (each step covering what arrived
  meanwhile), which is the lowest latency either can give;
- while other sessions are open, it is `headroom` (1.5) times the step time: each session leaves
  part of the CPU idle, so the others' steps (which share it) finish sooner, instead of all
  of them stepping back to back and each step taking longer;
- a step whose compute took longer than the audio it covered (falling behind) grows the next
  interval at once to that step's time (times `headroom` while sharing), not by the average.

Step times are measured per session and pooled per process (`StepLoad`): a new session starts
from the time other sessions' steps take now, not from the minimum.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class StepLoad:
    """Step times of every session of a process (thread-safe): their moving average."""

    alpha: float = 0.3
    average_s: float = 0.0
    sessions: int = 0  # open now
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def session(self) -> Iterator[None]:
        """Count a session as open while the block runs."""
        with self._lock:
            self.sessions += 1
        try:
            yield
        finally:
            with self._lock:
                self.sessions -= 1

    def record(self, compute_s: float) -> None:
        with self._lock:
            self.average_s = compute_s if self.average_s == 0 else (
                self.alpha * compute_s + (1 - self.alpha) * self.average_s)


class AdaptiveStep:
    """The step interval of one session."""

    def __init__(self, min_s: float, max_s: float, headroom: float = 1.5, alpha: float = 0.5,
                 load: StepLoad | None = None):
        if not 0 < min_s <= max_s:
            raise ValueError(f"need 0 < min_s <= max_s, got {min_s}, {max_s}")
        self.min_s, self.max_s, self.headroom, self.alpha = min_s, max_s, headroom, alpha
        self.load = load
        self.average_s = load.average_s if load is not None else 0.0  # recent step compute time
        self.interval_s = self._target()
        self.steps = 0
        self.behind = 0  # steps whose compute took longer than the audio they covered

    @property
    def shared(self) -> bool:
        """Other sessions are open in this process."""
        return self.load is not None and self.load.sessions > 1

    @property
    def factor(self) -> float:
        """Interval per second of step time: 1 alone, `headroom` while sharing the CPU."""
        return self.headroom if self.shared else 1.0

    def _target(self) -> float:
        return min(self.max_s, max(self.min_s, self.factor * self.average_s))

    def due(self, new_audio_s: float) -> bool:
        """Enough new audio for the next step (the caller steps only when the last one is done)."""
        return new_audio_s >= self.interval_s

    def record(self, compute_s: float, covered_s: float) -> None:
        """A step took `compute_s` seconds for `covered_s` seconds of new audio."""
        self.steps += 1
        self.average_s = compute_s if self.steps == 1 and self.average_s == 0 else (
            self.alpha * compute_s + (1 - self.alpha) * self.average_s)
        if self.load is not None:
            self.load.record(compute_s)
        target = self._target()
        if compute_s > covered_s:  # falling behind: grow now, at least to what this step needed
            self.behind += 1
            target = min(self.max_s, max(target, self.factor * compute_s))
        self.interval_s = target
