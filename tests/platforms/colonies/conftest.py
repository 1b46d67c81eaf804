"""Fixtures of the ColonyOS tests: one local Colonies server per module, as `polynb up colonies` starts it."""
from __future__ import annotations

import pytest
from colonies_harness import LocalServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    local = LocalServer(tmp_path_factory.mktemp("colonies") / "server.sqlite")
    local.start()
    try:
        yield local
    finally:
        local.stop()
