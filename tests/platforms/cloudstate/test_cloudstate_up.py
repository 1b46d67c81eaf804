"""``polynb up cloudstate`` on its own: it finds the user function through USER_FUNCTION_HOST/PORT, as the
real proxy does, and ``--json`` prints where its gRPC and HTTP sides listen."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx


def test_polynb_up_cloudstate_finds_the_user_function_from_the_environment(tck, tmp_path):
    host, port = tck[1].rsplit(":", 1)
    env = {**os.environ, "USER_FUNCTION_HOST": host, "USER_FUNCTION_PORT": port, "CLOUDSTATE_PROXY_PORT": "0",
           "CLOUDSTATE_PROXY_HTTP_PORT": "0", "CLOUDSTATE_PROXY_DB": str(tmp_path / "proxy.sqlite")}
    process = subprocess.Popen([sys.executable, "-m", "polynb", "up", "cloudstate", "--json"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        info = json.loads(process.stdout.readline())["cloudstate"]
        assert info["user_function"] == tck[1] and info["grpc"].startswith("127.0.0.1:")
        deadline = time.monotonic() + 30
        while True:  # discovery runs in the background until the user function answers
            reply = httpx.post(f"{info['http']}/tck/model/eventsourced/up-1", json={"actions": [{"emit": {"value": "u"}}]})
            if reply.status_code != 404 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert reply.json() == {"message": "u"}
        assert (tmp_path / "proxy.sqlite").is_file()
    finally:
        process.terminate()
        process.wait(10)
