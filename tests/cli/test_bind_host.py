"""Every stand-in of `polynb up` listens on ``core.bind_host`` and reports the address it serves there."""
from __future__ import annotations

import os
import re
import socket

import pytest
from support import Standin

HOST = "127.0.0.2"  # loopback, but not the default: a server hard-coding 127.0.0.1 is not reachable here
ADDRESS = re.compile(r"^(?:[a-z]+://)?([0-9.]+):(\d+)")


def addresses(info: dict) -> list[tuple[str, int]]:
    """Every host:port the stand-in's JSON line names as its own (urls and gRPC addresses)."""
    found = [ADDRESS.match(value) for key, value in info.items() if isinstance(value, str) and key != "user_function"]
    return [(match[1], int(match[2])) for match in found if match]


@pytest.mark.parametrize("platform", ["kgrid", "vantiq", "colonies", "cloudstate", "aio"])
def test_a_stand_in_serves_on_the_bind_host_and_says_so(platform, tmp_path):
    env = {**os.environ, "POLYNB_BIND_HOST": HOST, "KGRID_ACTIVATOR_SHELF": str(tmp_path / "shelf"),
           "KGRID_ACTIVATOR_PORT": "0", "VANTIQ_LOCAL_PORT": "0", "POLYNB_COLONIES_LOCAL_PORT": "0",
           "POLYNB_COLONIES_LOCAL_STATE": str(tmp_path / "colonies.sqlite"), "CLOUDSTATE_PROXY_PORT": "0",
           "CLOUDSTATE_PROXY_HTTP_PORT": "0", "CLOUDSTATE_PROXY_DB": str(tmp_path / "proxy.sqlite")}
    with Standin(platform, env=env, cwd=tmp_path) as stand_in:
        served = addresses(stand_in.info)
        assert served and {host for host, _ in served} == {HOST}, stand_in.info
        for host, port in served:
            socket.create_connection((host, port), timeout=10).close()
