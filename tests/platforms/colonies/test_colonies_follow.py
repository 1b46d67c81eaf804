"""`%colonies_submit --follow`: the live table reaches the final state of what it follows."""
from __future__ import annotations

import time

import pytest
from notebook_shell import polynb_shell, run

import polynb


@pytest.fixture
def ip(journal_dir, server, monkeypatch):
    for name, value in {**server.env_vars(), "POLYNB_COLONIES_ASSIGN_TIMEOUT": "2"}.items():
        monkeypatch.setenv(name, value)
    with polynb_shell(forget=("halve", "submission")) as shell:
        yield shell


def followed_view(submission):
    return polynb._state["views"][("colonies-submission", submission.processid)]


def settled_text(view, submission, seconds: float = 30) -> str:
    """The view's text once its follower has ended (the follower ends once every process finished)."""
    deadline = time.monotonic() + seconds
    while not (submission._follower and submission._follower.done()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return view._text


def test_a_followed_submission_whose_result_was_awaited_shows_its_final_state_and_output(ip):
    run(ip, "%%colonies_func halve --executortype follow-h\ndef halve(x):\n    print('halving', x)\n    return x // 2")
    submission = run(ip, "submission = %colonies_submit halve --args [84] --executortype follow-h\nsubmission")
    assert run(ip, "submission.result(timeout=30)") == [42]
    text = settled_text(followed_view(submission), submission)
    assert " successful " in text and text.endswith("output [42]"), text


def test_a_followed_submission_that_failed_while_its_result_was_awaited_shows_the_failure(ip):
    from polynb.platforms.colonies.submit import SubmissionFailed

    run(ip, "%%colonies_func halve --executortype follow-f\ndef halve(x):\n    return x // 0")
    submission = run(ip, "submission = %colonies_submit halve --args [84] --executortype follow-f\nsubmission")
    with pytest.raises(SubmissionFailed):
        run(ip, "submission.result(timeout=30)")
    text = settled_text(followed_view(submission), submission)
    assert " failed " in text and text.endswith("errors: ZeroDivisionError: integer division or modulo by zero"), text
