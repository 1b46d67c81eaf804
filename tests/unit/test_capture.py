import contextlib
import io
import logging
import sys
import threading

import pytest

from polynb import capture


@pytest.fixture(autouse=True)
def fresh_installation(monkeypatch):
    """Each test installs from scratch, whatever services other tests left installed."""
    monkeypatch.setattr(capture, "_installation", capture._Installation())


@contextlib.contextmanager
def routed_streams():
    """Routing installed over fresh std streams (inside the test: pytest swaps sys.stdout between phases)."""
    saved = sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    sys.stdout, sys.stderr = out, err
    capture.install()
    try:
        yield out, err
    finally:
        capture.uninstall()
        sys.stdout, sys.stderr = saved


def test_output_inside_a_capture_goes_to_it_and_not_to_the_stream():
    with routed_streams() as (out, err):
        with capture.capturing() as captured:
            print("to the record")
            print("oops", file=sys.stderr)
        print("to the cell")
    assert captured.stdout == "to the record\n"
    assert captured.stderr == "oops\n"
    assert out.getvalue() == "to the cell\n"
    assert err.getvalue() == ""


def test_concurrent_executions_each_keep_their_own_output():
    results = {}
    barrier = threading.Barrier(4, timeout=30)

    def work(n):
        with capture.capturing() as captured:
            barrier.wait()
            for i in range(50):
                print(f"{n}:{i}")
        results[n] = captured.stdout

    with routed_streams() as (out, _):
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not any(t.is_alive() for t in threads), "an execution never finished"
    for n in range(4):
        assert results[n] == "".join(f"{n}:{i}\n" for i in range(50))
    assert out.getvalue() == ""


def test_log_records_of_the_execution_are_captured_with_level_and_logger():
    with routed_streams(), capture.capturing() as captured:
        logging.getLogger("payload.test").warning("careful %d", 3)
    assert captured.logs[0]["level"] == "WARNING"
    assert captured.logs[0]["logger"] == "payload.test"
    assert captured.logs[0]["message"] == "careful 3"


def test_a_stream_handler_made_before_install_cannot_write_past_the_router(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    handler = logging.StreamHandler(err)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        capture.install()
        with capture.capturing() as captured:
            root.warning("from the payload")
        root.warning("from the cell")
        capture.uninstall()
        assert handler.stream is err
    finally:
        root.removeHandler(handler)
    assert "from the payload" in captured.stderr
    assert "from the payload" not in err.getvalue()
    assert "from the cell" in err.getvalue()


def test_uninstall_puts_the_original_streams_back(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    capture.install()
    capture.install()
    capture.uninstall()
    assert isinstance(sys.stdout, capture.RoutedStream)
    capture.uninstall()
    assert sys.stdout is out
