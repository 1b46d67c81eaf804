"""The local Vantiq server a test module shares, and a REST client on it; a module that needs the server set up
otherwise (documents, a short query timeout) defines its own ``server``."""
from __future__ import annotations

import pytest
from vantiq_harness import Rest, local_server


@pytest.fixture(scope="module")
def server():
    with local_server() as info:
        yield info


@pytest.fixture(scope="module")
def rest(server):
    return Rest(server["url"], server["token"])
