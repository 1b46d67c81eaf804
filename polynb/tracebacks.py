"""A payload's traceback trimmed to the user's frames: polynb's and asyncio's frames above them are noise.

Every place that shows a user the error of their code (the runner's journal records, the Vantiq connector's
error replies) trims with :func:`user_frames`, so a traceback reads the same whichever door the call came in.
"""
from __future__ import annotations

import asyncio
import os
from types import CodeType, TracebackType

#: files whose frames are polynb's machinery (this package) or the event loop's
MACHINERY = (os.path.dirname(os.path.abspath(__file__)), os.path.dirname(asyncio.__file__))


def user_frames(exc: BaseException, entered: CodeType | None = None) -> TracebackType | None:
    """The traceback of ``exc`` from the user's first frame on.

    With ``entered`` (the code that calls into the user's code), the frames up to its last one are
    dropped, and so are machinery frames after it; an error raised before it ran keeps its whole traceback.
    Without it, leading machinery frames are dropped. The raising frame itself is always kept.
    """
    frames: list[TracebackType] = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    if not frames:
        return None
    index = 0
    if entered is not None:
        calls = [i for i, frame in enumerate(frames) if frame.tb_frame.f_code is entered]
        if not calls:
            return frames[0]
        index = calls[-1] + 1
    while index < len(frames) - 1 and frames[index].tb_frame.f_code.co_filename.startswith(MACHINERY):
        index += 1
    return frames[min(index, len(frames) - 1)]
