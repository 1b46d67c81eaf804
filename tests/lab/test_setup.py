"""What install and launch set up: the lab extension is enabled, and binder/start shares the platforms."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def listing(*command: str) -> str:
    done = subprocess.run([BIN / "jupyter", *command], capture_output=True, text=True, check=True)
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # without the colours


def test_the_lab_extension_and_the_server_extension_are_enabled_after_install():
    assert "polynb v0.1.0 enabled OK" in listing("labextension", "list")
    assert "polynb enabled" in listing("server", "extension", "list")


def test_binder_start_runs_its_command_with_the_local_platforms_and_stops_them_after(tmp_path):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "POLYNB_DEMO_ENV": str(tmp_path / "p.env"),
           "POLYNB_COLONIES_LOCAL_PORT": "0"}
    for name in ("KGRID_PROXY_ADAPTER_URL", "KAI_NATS_URL", "VANTIQ_TARGET_SERVER", "COLONIES_SERVER_HOST"):
        env.pop(name, None)
    probe = ("import os, httpx; url = os.environ['KGRID_PROXY_ADAPTER_URL']; "
             "print(url, httpx.get(url + '/proxy/environments').status_code, os.environ['KAI_NATS_URL'])")
    result = subprocess.run([ROOT / "binder" / "start", sys.executable, "-c", probe], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    url, status, nats = result.stdout.split()
    assert status == "200" and nats.startswith("nats://127.0.0.1:")
    for _ in range(100):  # the platforms follow their parent (the command) out
        try:
            httpx.get(url + "/proxy/environments", timeout=1)
        except httpx.HTTPError:
            break
        subprocess.run(["sleep", "0.2"])
    else:
        raise AssertionError("the local platforms outlived the command binder/start ran")
