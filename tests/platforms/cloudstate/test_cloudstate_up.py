"""``polynb up cloudstate`` on its own: it finds the user function through USER_FUNCTION_HOST/PORT, as the
real proxy does, and ``--json`` prints where its gRPC and HTTP sides listen."""
from __future__ import annotations

import httpx
import pytest
from cloudstate_servers import local_proxy
from support import wait_until

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command


def emitted(http: str):
    """The model's answer to an emit, or None while the proxy has not discovered it (404)."""
    reply = httpx.post(f"{http}/tck/model/eventsourced/up-1", json={"actions": [{"emit": {"value": "u"}}]})
    return None if reply.status_code == 404 else reply.json()


def test_polynb_up_cloudstate_finds_the_user_function_from_the_environment(tck, tmp_path):
    with local_proxy(tck[1], tmp_path / "proxy.sqlite") as info:
        assert info["user_function"] == tck[1] and info["grpc"].startswith("127.0.0.1:")
        # discovery runs in the background until the user function answers
        assert wait_until(lambda: emitted(info["http"]), 30, "the proxy discovering the model") == {"message": "u"}
        assert (tmp_path / "proxy.sqlite").is_file()
