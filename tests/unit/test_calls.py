"""What every call helper shares: its default timeout, and errors that read as the platform's answer."""
from __future__ import annotations

import pytest

from polynb.calls import CallTimeout, call_timeout


def test_a_call_timeout_names_the_platform_what_waited_and_what_to_check():
    error = CallTimeout("kgrid", "demo/x/1.0/run", 2.5, "the activator at http://127.0.0.1:1 did not answer")
    assert isinstance(error, TimeoutError)
    assert str(error) == "kgrid: no answer to demo/x/1.0/run within 2.5 s; the activator at http://127.0.0.1:1 did not answer"


def test_a_call_timeout_shows_in_a_notebook_as_its_line_alone():
    assert CallTimeout("aio", "request r1", 1, "no trigger")._render_traceback_() == \
        ["CallTimeout: aio: no answer to request r1 within 1 s; no trigger"]


@pytest.mark.parametrize("given, configured, expected", [(5, "60", 5.0), (None, "7.5", 7.5), (None, None, 60.0)])
def test_the_timeout_is_the_callers_else_the_configured_default(given, configured, expected, monkeypatch):
    if configured is None:
        monkeypatch.delenv("POLYNB_CALL_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("POLYNB_CALL_TIMEOUT", configured)
    assert call_timeout(given) == expected
