"""Time limits stop a learner's endless loop on every platform: with SIGALRM (Linux, macOS), and
without it (Windows has none; a check run from a thread cannot use it)."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from course_utils import exercises, probing
from course_utils.judging import describe_difference
from course_utils.probing import Case
from course_utils.time_limit import TimeLimitExceeded, time_limit


@pytest.fixture(params=["with SIGALRM", "without SIGALRM"])
def platform_signals(request, monkeypatch):
    """Run the test as on Linux, and as on Windows (no `signal.SIGALRM`)."""
    if request.param == "without SIGALRM":
        monkeypatch.delattr(signal, "SIGALRM")
    return request.param


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _endless():
    while True:
        pass


def _endless_and_swallowing():
    while True:
        try:
            sum(range(1000))
        except Exception:  # a learner's catch-all must not hide the time limit
            pass


@pytest.mark.parametrize("loop", [_endless, _endless_and_swallowing])
def test_an_endless_loop_is_stopped(platform_signals, loop):
    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.3):
        loop()
    assert time.monotonic() - start < 3


class _SlowFinalizer:
    """An object whose `__del__` runs for half a second: Python ignores an exception raised
    while a finalizer runs (garbage collection can run one at any moment; TensorFlow's
    functions have them)."""

    def __del__(self):
        _spin(0.5)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_limit_lost_in_a_finalizer_goes_off_again(platform_signals):
    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.2):
        _SlowFinalizer()  # dropped at once: its __del__ runs past the limit, which is lost there
        _spin(5)  # the learner's endless loop (bounded here, so that a failure ends)
    assert time.monotonic() - start < 2


def test_no_repeat_goes_off_after_the_block_that_ran_out(platform_signals):
    with pytest.raises(TimeLimitExceeded), time_limit(0.1):
        _spin(5)
    _spin(0.5)  # Python code runs on: the repeats stopped with the block


def _told(observed, timeout):
    return describe_difference(observed, {"outcome": "value"}, what="it", timeout=timeout)


def test_the_learner_is_told_their_loop_never_ends(platform_signals):
    observed, _ = probing.run(lambda batch: _endless(), Case(([1],)), timeout=0.3)
    assert "did not finish within 0.3 seconds; look for a loop" in _told(observed, 0.3)


def test_a_block_that_finishes_in_time_is_never_interrupted_later(platform_signals):
    with time_limit(0.2):
        pass
    _spin(0.6)  # Python code runs on past the limit: no late exception


def test_a_check_run_from_a_thread_still_stops_an_endless_loop():
    outcome = {}

    def run():
        observed, _ = probing.run(_endless, Case(), timeout=0.3)
        outcome["message"] = _told(observed, 0.3)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert "did not finish within 0.3 seconds" in outcome["message"]


def test_checks_pass_and_fail_as_usual_without_sigalrm(monkeypatch, progress_file):
    monkeypatch.delattr(signal, "SIGALRM")
    for lesson in ("00", "01"):
        for ex in exercises(lesson):
            assert ex.evaluate(ex.reference_answer).passed, ex.name
            for wrong in ex.wrong_answers:
                result = ex.evaluate(wrong.answer)
                assert result.status == "failed" and wrong.says in result.message, wrong.name
