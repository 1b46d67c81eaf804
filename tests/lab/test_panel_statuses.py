"""The panel's status vocabulary (labextension/src) follows the journal's: a status added in Python and not in
TypeScript would be filtered, counted and drawn wrongly in the panel."""
from __future__ import annotations

import re
from pathlib import Path

from polynb.journal import OPEN_STATUSES, STATUSES, UNSUCCESSFUL

SRC = Path(__file__).resolve().parents[2] / "labextension" / "src"


def test_the_panels_status_lists_are_the_journals():
    source = (SRC / "statuses.ts").read_text()
    lists = {name: re.findall(r"'([^']+)'", body)
             for name, body in re.findall(r"export const (\w+) = \[([^\]]*)\]", source)}
    assert lists == {"STATUSES": list(STATUSES), "OPEN_STATUSES": list(OPEN_STATUSES),
                     "UNSUCCESSFUL": list(UNSUCCESSFUL)}


def test_every_status_has_its_own_look_in_the_panel_and_failures_wear_the_failure_tone():
    looks = dict(re.findall(r"^\s+'?([a-z ]+?)'?: \[\w+, '(\w+)'\],?$", (SRC / "status.tsx").read_text(), re.M))
    assert set(STATUSES) <= set(looks)
    assert {looks[status] for status in UNSUCCESSFUL} == {"bad"}
