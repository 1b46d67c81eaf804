"""The SDK's configuration files and the managers' names, as the fact sheet (sections 3 and 6) gives them."""
from __future__ import annotations

import pytest
import yaml

from polynb.platforms.aio import appconfig, names

PLACEMENT = appconfig.Placement("demo", "v1.0.0", "wf", object_store="ephemeral")


def test_names_follow_the_managers_rules():
    stream = names.stream("demo", "v1.0.0", "wf")
    assert stream == "demo_v1_0_0_wf"
    assert names.durable(f"{stream}.trig", "task1") == "demo_v1_0_0_wf-trig-task1"
    assert names.durable("s.a.b", "my process.x") == "s-a-b-my-process-x"
    assert names.kv_buckets("demo", "v1.0.0", "wf", "task1") == {
        "global": "key-store_demo", "product": "key-store_demo_v1_0_0", "workflow": "key-store_demo_v1_0_0_wf",
        "process": "key-store_demo_v1_0_0_wf_task1"}
    assert names.object_store("demo", "v1.0.0", "cache") == "demo_v1_0_0_cache"
    assert names.object_store("demo", "v1.0.0", "cache", "wf") == "demo_v1_0_0_wf_cache"


def test_a_trigger_durable_is_the_base_name_followed_by_a_uuid():
    first, second = (names.trigger_durable("s.exit", "entry") for _ in range(2))
    assert first.startswith("s-exit-entry") and len(first) == len("s-exit-entry") + 36 and first != second


@pytest.mark.parametrize("name", ["Task", "-task", "task-", "a" * 21, "with space", "dot.ted"])
def test_process_names_krt_refuses_are_refused(name):
    with pytest.raises(ValueError, match="is not a KAI process name"):
        names.check_process_name(name)


def test_a_derived_node_gets_subjects_buckets_and_the_short_ack_wait():
    spec = appconfig.derive_spec(PLACEMENT, "task1", "task", subscribe=("trig", "etl.chan"))
    assert spec.output == "demo_v1_0_0_wf.task1"
    assert spec.inputs == ("demo_v1_0_0_wf.trig", "demo_v1_0_0_wf.etl.chan")
    assert spec.object_store == "demo_v1_0_0_wf_ephemeral" and spec.ack_wait == 30.0


def write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(yaml.safe_dump(data))


def test_app_yaml_is_merged_over_config_yaml_from_the_sdks_folders(tmp_path):
    mounted, cwd = tmp_path / "mounted", tmp_path / "cwd"
    spec = appconfig.derive_spec(PLACEMENT, "task1", "task", subscribe=("trig",), nats_url="nats://x:1")
    full = appconfig.app_config(spec)
    write(mounted, "config.yaml", {**full, "nats": {**full["nats"], "url": "nats://from-config:1"}})
    write(cwd, "config.yaml", {"metadata": {"process_name": "ignored"}})
    write(mounted, "app.yaml", {"nats": {"url": "nats://from-app:1"}})
    data = appconfig.read_app_config({"KAI_APP_CONFIG_PATH": str(mounted)}, cwd=str(cwd))
    assert data["nats"]["url"] == "nats://from-app:1"  # app.yaml over config.yaml
    assert data["metadata"]["process_name"] == "task1"  # config.yaml from KAI_APP_CONFIG_PATH before the cwd's
    write(cwd, "app.yaml", {"nats": {"url": "nats://from-cwd-app:1"}})
    assert appconfig.read_app_config({"KAI_APP_CONFIG_PATH": str(mounted)}, cwd=str(cwd))["nats"]["url"] == \
        "nats://from-cwd-app:1"  # the cwd's app.yaml before KAI_APP_CONFIG_PATH's


def test_dotted_kai_environment_variables_override_the_files(tmp_path):
    write(tmp_path, "app.yaml", {"nats": {"url": "nats://file:1"}})
    data = appconfig.read_app_config({"KAI_NATS.URL": "nats://env:1"}, cwd=str(tmp_path))
    assert data["nats"]["url"] == "nats://env:1"


def test_a_node_from_app_yaml_reads_inputs_as_a_comma_string_and_ack_wait_in_hours():
    spec = appconfig.derive_spec(PLACEMENT, "task1", "exit", subscribe=("trig",), nats_url="nats://x:1")
    data = appconfig.app_config(spec, ack_wait_hours=2)
    data["nats"]["inputs"] = "a.b, a.c"
    data["centralized_configuration"]["process"]["config"] = {"k": 1}
    read = appconfig.spec_from_app_config(data, ack_wait=30.0)
    assert read.inputs == ("a.b", "a.c") and read.ack_wait == 7200.0 and read.runner == "exit"
    assert read.process_config == {"k": "1"}


def test_without_an_explicit_ack_wait_app_yaml_nodes_get_polynbs():
    spec = appconfig.derive_spec(PLACEMENT, "task1", "task", subscribe=("trig",), nats_url="nats://x:1")
    assert appconfig.spec_from_app_config(appconfig.app_config(spec), ack_wait=30.0) == spec


def test_missing_mandatory_keys_are_named():
    with pytest.raises(appconfig.AppConfigError, match="nats.url, nats.stream"):
        appconfig.spec_from_app_config({"metadata": {"product_id": "p"}}, 30.0)


def test_app_yaml_inputs_win_over_the_cells_subscriptions():
    spec = appconfig.derive_spec(PLACEMENT, "task1", "task", subscribe=("trig",), nats_url="nats://x:1")
    read = appconfig.spec_from_app_config(appconfig.app_config(spec), 30.0, subscribe=("other",))
    assert read.inputs == ("demo_v1_0_0_wf.trig",)


def test_the_cells_subscriptions_fill_an_app_yaml_that_names_no_inputs():
    spec = appconfig.derive_spec(PLACEMENT, "task1", "task", nats_url="nats://x:1")
    data = appconfig.app_config(spec)
    del data["nats"]["inputs"]
    read = appconfig.spec_from_app_config(data, 30.0, subscribe=("trig", "etl.chan"))
    assert read.inputs == ("demo_v1_0_0_wf.trig", "demo_v1_0_0_wf.etl.chan")
