"""The local Vantiq server a test module shares, a REST client on it, and a notebook shell on the embedded default;
a module that needs the server set up otherwise (documents, a short query timeout) defines its own ``server``."""
from __future__ import annotations

import pytest
from notebook_shell import polynb_shell
from vantiq_harness import Rest, local_server


@pytest.fixture(scope="module")
def server():
    with local_server() as info:
        yield info


@pytest.fixture(scope="module")
def rest(server):
    return Rest(server["url"], server["token"])


@pytest.fixture(scope="module")
def ip(tmp_path_factory):
    """One shell for the module: the embedded default (no targetServer) starts `polynb up vantiq` once."""
    patch = pytest.MonkeyPatch()
    patch.setenv("POLYNB_JOURNAL_DIR", str(tmp_path_factory.mktemp("journal")))
    for name in ("VANTIQ_TARGET_SERVER", "CONNECTOR_AUTH_TOKEN", "VANTIQ_SOURCES"):
        patch.delenv(name, raising=False)
    with polynb_shell() as shell:
        yield shell
    patch.undo()
