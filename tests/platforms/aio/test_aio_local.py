"""``polynb up aio``: a real nats-server, the managers' setup from a KRT file, and the embedded default."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aio_harness import Client, register
from processes import alive
from support import read_line, stop, wait_until

from polynb.config import Settings
from polynb.journal import Journal
from polynb.platforms.aio import PLATFORM
from polynb.service import Service

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command

KRT = """
version: v1.2.0
description: a two-workflow product
workflows:
  - name: serving
    type: serving
    processes:
      - name: entry
        type: trigger
        image: x
        subscriptions: [exit]
      - name: etl
        type: task
        image: x
        objectStore: {name: cache, scope: workflow}
        subscriptions: [entry]
      - name: exit
        type: exit
        image: x
        objectStore: {name: shared, scope: product}
        subscriptions: [etl.side]
"""


def test_polynb_up_aio_sets_up_a_krt_product_and_cleans_up_on_sigterm(tmp_path, standin):
    krt = tmp_path / "krt.yaml"
    krt.write_text(KRT)
    up = standin("aio", env={**os.environ, "POLYNB_AIO_KRT": str(krt), "KAI_PRODUCT_ID": "shop"})
    info = up.info
    try:
        assert info["url"].startswith("nats://127.0.0.1:")
        client = Client(info["url"])
        stream = client.run(client.js.stream_info("shop_v1_2_0_serving"))
        assert stream.config.retention == "interest"
        assert sorted(stream.config.subjects) == sorted(
            f"shop_v1_2_0_serving.{p}{suffix}" for p in ("entry", "etl", "exit") for suffix in ("", ".*"))
        for bucket in ("key-store_shop", "key-store_shop_v1_2_0", "key-store_shop_v1_2_0_serving",
                       "key-store_shop_v1_2_0_serving_etl"):
            client.run(client.js.key_value(bucket))
        for store in ("shop_v1_2_0_serving_cache", "shop_v1_2_0_shared"):
            client.run(client.js.object_store(store))
        client.close()
        exit_config = yaml.safe_load(Path(info["config_dir"], "serving", "exit", "app.yaml").read_text())
        assert exit_config["nats"] == {"url": info["url"], "stream": "shop_v1_2_0_serving",
                                       "output": "shop_v1_2_0_serving.exit",
                                       "inputs": ["shop_v1_2_0_serving.etl.side"], "object_store": "shop_v1_2_0_shared"}
        assert exit_config["metadata"]["process_type"] == "exit"
        assert len(info["app_configs"]) == 3
    finally:
        assert up.stop(15) == 0
    assert not Path(info["store_dir"]).exists()


def test_with_no_nats_url_the_binding_starts_the_local_setup_and_stops_it(tmp_path, monkeypatch):
    for name in ("KAI_NATS_URL", "KAI_APP_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings({"aio": PLATFORM.settings}, environ={}, path=None)
    service = Service(settings=settings, journal=Journal(tmp_path / ".polynb"))
    try:
        register(service, "entry", "", runner="trigger", workflow="notebook", subscribe=("echo",))
        register(service, "echo", "def handler(sdk, payload):\n    sdk.messaging.send_any(payload)\n",
                 runner="exit", workflow="notebook", subscribe=("entry",))
        binding = service.call(service.binding("aio"))
        assert binding.url.startswith("nats://127.0.0.1:") and binding.local is not None
        assert service.call(binding.request("notebook", {"n": 1.0}, 20)) == {"n": 1.0}
        written = Path(binding.local.info["config_dir"], "notebook", "echo", "app.yaml")
        assert yaml.safe_load(written.read_text())["nats"]["inputs"] == ["polynb_v1_0_0_notebook.entry"]
        child = binding.local.process
    finally:
        service.stop(timeout=2)
    assert child.returncode is not None


PARENT = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-m", "polynb", "up", "aio", "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, start_new_session=True,
                         env={**os.environ, "POLYNB_STANDIN_PARENT": str(os.getpid())})  # as start_local does
print(child.pid, child.stdout.readline(), flush=True, end="")
child.stdout.close()
import time
time.sleep(600)
"""


def test_the_local_setup_stops_when_the_process_that_started_it_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        pid, line = read_line(parent.stdout, 120, "the parent of polynb up aio").split(" ", 1)
        info = json.loads(line)["aio"]
        assert Path(info["store_dir"]).exists()
    finally:
        stop(parent, sig=signal.SIGKILL)
    wait_until(lambda: not alive(int(pid)), timeout=20, message="the orphaned stand-in to stop")
    assert not Path(info["store_dir"]).exists()
