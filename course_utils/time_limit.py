"""Stop a learner's function that runs too long, on every platform.

Where `signal.SIGALRM` exists and we are on the main thread (Linux, macOS), an interval timer
raises `TimeLimitExceeded` inside the block; that also interrupts a blocking `time.sleep`.
Elsewhere (Windows has no SIGALRM; checks run from a thread) a watchdog thread asks the
interpreter to raise `TimeLimitExceeded` in the thread running the block
(`PyThreadState_SetAsyncExc`). That reaches any loop of Python code, such as `while True: pass`;
a single long call into C code is interrupted when it returns.

Either way the exception is raised again every `AGAIN` seconds until the block ends: Python
ignores an exception raised while a finalizer (`__del__`) runs, and garbage collection can run
one at any moment (TensorFlow's functions have them), so a first exception can be lost.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Seconds between repeats of the exception once the time is up.
AGAIN = 0.1


class TimeLimitExceeded(BaseException):
    """Raised inside the block when its time is up. A BaseException, so that `except Exception`
    in the learner's own code cannot swallow it."""


def _can_use_alarm() -> bool:
    return (
        hasattr(signal, "SIGALRM")
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def _raise(signum, frame):
        raise TimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds, AGAIN)
    try:
        yield
    finally:
        while True:  # a repeat that goes off on the way out must not leave the timer running
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                break
            except TimeLimitExceeded:
                continue


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> int:
    """Schedule `exc` in thread `thread_id` (None clears a pending one); how many threads it hit."""
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


@contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}
    stop = threading.Event()

    def watch() -> None:
        wait = seconds
        while not stop.wait(wait):
            with lock:
                if state["done"]:
                    return
                state["fired"] = _set_async_exc(target, TimeLimitExceeded) == 1 or state["fired"]
            wait = AGAIN

    thread = threading.Thread(target=watch, name="course-time-limit", daemon=True)
    thread.start()
    try:
        yield
    finally:
        while True:  # a repeat delivered on the way out must not keep the watchdog firing
            try:
                with lock:
                    state["done"] = True
                    if state["fired"]:
                        # One may be scheduled and not yet delivered: cancel it, so it cannot
                        # go off later in unrelated code.
                        _set_async_exc(target, None)
                break
            except TimeLimitExceeded:
                continue
        stop.set()
        thread.join()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise `TimeLimitExceeded` inside the block once `seconds` have passed (None: no limit)."""
    if seconds is None:
        yield
    elif _can_use_alarm():
        with _alarm(seconds):
            yield
    else:
        with _watchdog(seconds):
            yield
