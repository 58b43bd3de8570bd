"""Time limits: a piece of work finishes within its budget or is stopped with :class:`OutOfTime`.

SymPy cannot be stopped from outside except by a signal. On the main thread, where the platform
has ``SIGALRM``, :func:`limit` arms a real-time timer whose handler raises :class:`OutOfTime`
wherever the work stands, inside SymPy or not; the handler and any timer armed before are
restored afterwards. Elsewhere (another thread, Windows) the work stops at the next
:func:`checkpoint` that symgrad passes between its steps. Limits nest: the earliest deadline
rules.

:class:`OutOfTime` derives from ``BaseException``, as ``KeyboardInterrupt`` does, so that no
``except Exception`` on the way mistakes it for a failed computation.

>>> try:
...     with limit(0.05):
...         while True:
...             checkpoint()
... except OutOfTime as out:
...     print(out)
gave up after 0.05 s
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

CLAIM_LIMIT = 10  # seconds for one claim's verdict (symgrad check --time-limit)
DERIVE_LIMIT = 60  # seconds for a model's derivation
PROVE_LIMIT = 120  # seconds to lay out a derivation as a proof and check every line
FOREVER = 1e8  # seconds: a limit this long is none (and arms no timer, which would overflow)
AGAIN = 0.1  # seconds: an alarm that went unheard (before the block began) rings again


class OutOfTime(BaseException):
    """The work ran past its time limit of ``seconds``."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"gave up after {seconds:g} s")


_deadline: ContextVar = ContextVar("deadline", default=None)  # (monotonic time, seconds)


def checkpoint() -> None:
    """Raise :class:`OutOfTime` if the innermost limit has passed."""
    current = _deadline.get()
    if current is not None and time.monotonic() >= current[0]:
        raise OutOfTime(current[1])


@contextmanager
def limit(seconds: float | None):
    """Run the block within ``seconds`` (None: no limit), or raise :class:`OutOfTime`."""
    start = time.monotonic()
    outer = _deadline.get()
    if seconds is None or not seconds < FOREVER or (outer and outer[0] <= start + seconds):
        yield  # no limit, or an enclosing one ends first
        return
    token = _deadline.set((start + seconds, seconds))
    alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    inside = [False]  # the alarm raises only in the block, and rings again until it is left

    def expire(signum, frame):
        if inside[0]:
            raise OutOfTime(seconds)

    if alarm:
        old_handler = signal.signal(signal.SIGALRM, expire)
        old_timer = signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6), AGAIN)
    try:
        inside[0] = True
        yield
    finally:
        inside[0] = False
        _deadline.reset(token)
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL if old_handler is None else old_handler)
            if old_timer[0]:  # the timer armed before, for the time it had left
                left = old_timer[0] - (time.monotonic() - start)
                signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), old_timer[1])
