"""`polynb up aio --cluster N`: N routed nats-servers with JetStream, whose streams polynb replicates N times, and
kernels that connect with every member's URL. (The leader-kill test is tests/scaleout/test_nats_cluster.py.)"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from aio_harness import Client, aio_service, register
from processes import alive
from support import Standin, free_port, run_polynb

from polynb.platforms.aio.appconfig import nats_servers

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command

KRT = """
version: v1.0.0
description: one workflow on a cluster
workflows:
  - name: wf
    type: data
    processes:
      - name: entry
        type: trigger
        image: x
        subscriptions: [echo]
      - name: echo
        type: exit
        image: x
        objectStore: {name: cache, scope: workflow}
        subscriptions: [entry]
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One `polynb up aio --cluster 3 --env-file ... --json` for the module, with a KRT product; when it stops,
    every member is gone and the store removed."""
    folder = tmp_path_factory.mktemp("cluster")
    (folder / "krt.yaml").write_text(KRT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAI_", "POLYNB_AIO_"))}
    up = Standin("aio", "--cluster", "3", "--env-file", str(folder / "env"), cwd=folder,
                 env={**env, "POLYNB_AIO_KRT": str(folder / "krt.yaml"), "KAI_PRODUCT_ID": "demo"})
    info = dict(up.info, env_file=str(folder / "env"))
    try:
        yield info
    finally:
        assert up.stop() == 0, up.log()
    assert not any(alive(member["pid"]) for member in info["members"])
    assert not Path(info["store_dir"]).exists()


def test_polynb_up_aio_cluster_3_runs_three_routed_servers_and_replicates_the_krt_product(cluster):
    members = cluster["members"]
    assert [m["name"] for m in members] == ["polynb-1", "polynb-2", "polynb-3"]
    assert cluster["urls"] == [m["url"] for m in members] and cluster["url"] == ",".join(cluster["urls"])
    assert all(m["url"].startswith("nats://127.0.0.1:") and m["route"].startswith("nats://127.0.0.1:")
               for m in members)
    assert len({m["store_dir"] for m in members}) == 3 and cluster["replicas"] == 3
    for member in members:  # each member, asked alone, is its own server in one cluster that holds the stream R3
        client = Client(member["url"])
        try:
            server = client.nc._server_info  # the INFO the server sent: its name, cluster and the members it knows
            assert (server["server_name"], server["cluster"]) == (member["name"], "polynb")
            assert {f"nats://{url}" for url in server["connect_urls"]} == set(cluster["urls"])
            stream = client.run(client.js.stream_info("demo_v1_0_0_wf"))
            assert stream.config.num_replicas == 3
            peers = {stream.cluster.leader, *(replica.name for replica in stream.cluster.replicas)}
            assert peers == {m["name"] for m in members}
            bucket = client.run(client.js.stream_info("KV_key-store_demo_v1_0_0_wf_echo"))
            assert bucket.config.num_replicas == 3
            store = client.run(client.js.stream_info("OBJ_demo_v1_0_0_wf_cache"))
            assert store.config.num_replicas == 3
        finally:
            client.close()


def test_the_app_yaml_names_one_member_for_the_sdk_and_the_env_file_all_of_them(cluster):
    written = yaml.safe_load(Path(cluster["config_dir"], "wf", "echo", "app.yaml").read_text())
    assert written["nats"]["url"] == cluster["urls"][0]  # the SDK's nats-py takes one URL and discovers the rest
    exports = Path(cluster["env_file"]).read_text().splitlines()
    assert f"export KAI_NATS_URL={cluster['url']}" in exports
    assert "export POLYNB_AIO_REPLICAS=3" in exports


def test_a_kernel_given_the_clusters_urls_replicates_its_nodes_stream_on_every_member(tmp_path, cluster):
    # a server named first that is not there: the binding goes on along the list, as it fails over later
    url = f"nats://127.0.0.1:{free_port()},{cluster['url']}"
    service = aio_service(tmp_path, url, POLYNB_AIO_REPLICAS="3")
    try:
        register(service, "entry", "", runner="trigger", workflow="nb", subscribe=("echo",))
        register(service, "echo", "def handler(sdk, payload):\n    sdk.messaging.send_any(payload)\n",
                 runner="exit", workflow="nb", subscribe=("entry",))
        binding = service.call(service.binding("aio"))
        assert binding.client.connected_url.geturl() in cluster["urls"]
        assert service.call(binding.request("nb", {"n": 1.0}, 20)) == {"n": 1.0}
        assert service.call(binding.js.stream_info("demo_v1_0_0_nb")).config.num_replicas == 3
    finally:
        service.stop(timeout=5)


@pytest.mark.parametrize("size", ["0", "9", "three"])
def test_a_cluster_polynb_cannot_run_is_refused_in_one_line(size):
    done = run_polynb("up", "aio", "--cluster", size, "--json", timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"polynb up: POLYNB_AIO_CLUSTER={size!r} is not a valid cluster")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_nats_url_setting_may_name_several_servers():
    assert nats_servers("nats://a:1") == ["nats://a:1"]
    assert nats_servers(" nats://a:1, nats://b:2 ,") == ["nats://a:1", "nats://b:2"]
    with pytest.raises(ValueError, match="no NATS server"):
        nats_servers(" , ")

