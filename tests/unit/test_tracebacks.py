"""A user's traceback starts at the user's code: polynb's and asyncio's frames above it are dropped."""
from __future__ import annotations

import pytest

from polynb import jsonbody
from polynb.runner import call_payload
from polynb.tracebacks import user_frames


def user(value):
    raise ValueError(value)


def caught(call, *args) -> BaseException:
    with pytest.raises(Exception) as raised:
        call(*args)
    return raised.value


def test_frames_up_to_the_entered_code_are_dropped():
    exc = caught(call_payload, user, 1)
    assert user_frames(exc, call_payload.__code__).tb_frame.f_code is user.__code__


def test_without_an_entry_point_leading_polynb_frames_are_dropped():
    exc = caught(call_payload, user, 1)
    exc.with_traceback(exc.__traceback__.tb_next)  # as a connector catching it sees it: from polynb's frame on
    assert exc.__traceback__.tb_frame.f_code is call_payload.__code__
    assert user_frames(exc).tb_frame.f_code is user.__code__


def test_an_error_raised_inside_polynb_keeps_its_raising_frame():
    exc = caught(jsonbody.loads, "[1]", dict)
    exc.with_traceback(exc.__traceback__.tb_next)
    assert user_frames(exc).tb_next is None and user_frames(exc).tb_frame.f_code is jsonbody.loads.__code__


def test_an_error_before_the_entered_code_ran_keeps_its_whole_traceback():
    exc = caught(user, 2)
    assert user_frames(exc, call_payload.__code__) is exc.__traceback__
