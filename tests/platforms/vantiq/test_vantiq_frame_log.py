"""The stand-in's frame logs stay bounded whatever a connector sends: at most FRAME_LOG frames and FRAME_LOG_BYTES
of text each, a frame longer than FRAME_TEXT kept cut (issue 14: every non-JSON frame was kept, without end)."""
from __future__ import annotations

import json

from vantiq_harness import ScriptedConnector

from polynb.platforms.vantiq.server import FRAME_LOG, FRAME_LOG_BYTES, FRAME_TEXT, FrameLog


def test_a_frame_log_keeps_the_last_frames_within_its_count_and_its_text():
    log = FrameLog()
    for index in range(FRAME_LOG + 5):
        log.append(f"frame {index}", "c2s")
    entries = log.entries()
    assert len(entries) == FRAME_LOG and entries[0] == ["c2s", "frame 5"] and entries[-1][1] == f"frame {FRAME_LOG + 4}"

    for _ in range(FRAME_LOG_BYTES // FRAME_TEXT + 3):
        log.append("x" * (FRAME_TEXT + 1))
    entries = log.entries()
    assert sum(len(entry) for entry in entries) <= FRAME_LOG_BYTES
    assert entries[-1].startswith("x" * FRAME_TEXT) and entries[-1].endswith(
        f"[the stand-in cut this frame: it held {FRAME_TEXT + 1} characters]")
    assert not any(isinstance(entry, list) for entry in entries)  # the small frames went first


def test_a_connector_flooding_the_stand_in_with_non_json_frames_leaves_it_a_bounded_log(server, rest):
    flood = ScriptedConnector(server, "flooded")
    try:
        for index in range(FRAME_LOG + 50):
            flood.socket.send(f"not json {index}")
        huge = "y" * (FRAME_TEXT + 1)
        for _ in range(FRAME_LOG_BYTES // FRAME_TEXT + 2):
            flood.socket.send(huge)
        flood.socket.send(json.dumps({"op": "notification", "resourceName": "sources", "resourceId": "flooded",
                                      "object": {"after": "the flood"}}))
        assert flood.receive() == {"status": 200}  # it still serves: the notification is taken and acknowledged

        frames = rest.frames("flooded")
        assert len(frames) <= FRAME_LOG and sum(len(text) for _, text in frames) <= FRAME_LOG_BYTES
        assert all(len(text) < FRAME_TEXT + 100 for _, text in frames)
        assert frames[-3][1].endswith(f"[the stand-in cut this frame: it held {FRAME_TEXT + 1} characters]")
        assert ("c2s", "not json 0") not in frames  # the oldest went first
        assert json.loads(frames[-1][1]) == {"status": 200}
    finally:
        flood.close()
    assert ScriptedConnector(server, "after-flood").configuration["op"] == "configureExtension"
