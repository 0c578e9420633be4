"""When the engine is restarted after its process stops unexpectedly, and when waiting jobs give up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RestartPolicy:
    """The engine is always restarted, each time a little later while it keeps stopping.

    After crash n in a row (no job ended in between) the next start waits `first_delay` × 2^(n-1)
    seconds, at most `longest_delay`. Once more than `crashes_tolerated` crashes come in a row, the
    jobs waiting at each further crash fail instead of waiting for an engine that may never work;
    a job submitted meanwhile waits for the next start, and fails too if that one stops. An engine
    that has not said it is ready within `start_timeout` seconds is stopped and counts as a crash.
    """

    first_delay: float = 0.5
    longest_delay: float = 30.0
    crashes_tolerated: int = 3
    start_timeout: float = 300.0

    def delay(self, crashes: int) -> float:
        """Seconds to wait before starting again after `crashes` crashes in a row."""
        doublings = min(max(crashes - 1, 0), 60)
        return min(self.first_delay * 2.0**doublings, self.longest_delay)

    def gives_up(self, crashes: int) -> bool:
        """Whether the jobs waiting now should fail rather than wait for another start."""
        return crashes > self.crashes_tolerated
