from concurrent.futures import Future

import pytest

from polynb import progress


class RecordingSink:
    def __init__(self):
        self.shown, self.finished = [], []

    def show(self, label, message):
        self.shown.append((label, message))

    def finish(self, label, ok):
        self.finished.append((label, ok))


def test_report_reaches_the_progress_of_the_current_context_only():
    tracker = progress.Progress("starting kgrid")
    progress.report("nobody listens")
    with tracker:
        progress.report("downloading")
    progress.report("after")
    assert tracker.message == "downloading"
    assert tracker.changes == 1


def test_wait_shows_each_new_message_and_the_outcome():
    tracker = progress.Progress("installing")
    future: Future = Future()
    later = ["importing"]

    class AdvancingSink(RecordingSink):
        """Each time a message is shown, the service moves on: a new message, then the result."""

        def show(self, label, message):
            super().show(label, message)
            if later:
                tracker.update(later.pop(0))
            else:
                future.set_result("ok")

    sink = AdvancingSink()
    tracker.update("pip install leftpad")
    assert progress.wait(future, tracker, after=0, sink=sink, clock=lambda: 100.0) == "ok"
    assert [m for _, m in sink.shown] == ["pip install leftpad", "importing"]
    assert sink.finished == [("installing", True)]


def test_a_quick_call_shows_nothing():
    tracker = progress.Progress("quick")
    future: Future = Future()
    future.set_result(1)
    sink = RecordingSink()
    assert progress.wait(future, tracker, after=10, sink=sink) == 1
    assert sink.shown == [] and sink.finished == []


def test_a_failure_is_raised_to_the_waiter_and_shown_as_failed():
    tracker = progress.Progress("starting")
    future: Future = Future()

    class FailingSink(RecordingSink):
        def show(self, label, message):
            super().show(label, message)
            future.set_exception(ConnectionRefusedError("no activator"))

    sink = FailingSink()
    tracker.update("connecting")
    with pytest.raises(ConnectionRefusedError):
        progress.wait(future, tracker, after=0, sink=sink, clock=lambda: 1.0)
    assert sink.shown == [("starting", "connecting")]
    assert sink.finished == [("starting", False)]


def test_a_wait_past_its_timeout_is_a_clear_error():
    tracker = progress.Progress("follow submission")
    future: Future = Future()
    values = iter([0.0, 50.0, 100.0])
    with pytest.raises(TimeoutError, match="follow submission: no answer after 30 s"):
        progress.wait(future, tracker, timeout=30, sink=RecordingSink(), clock=lambda: next(values, 200.0))
    assert future.cancelled()
