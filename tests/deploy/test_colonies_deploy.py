"""ColonyOS deploy: ``polynb serve`` runs a notebook as a Colonies executor deployment runs its executors.

The local Colonies server runs as `polynb up colonies --json` starts it; each ``polynb serve`` gets only the
variables a Colonies executor deployment sets (server, TLS, colony, colony key, its own key and name, its
type), and unmodified pycolonies 1.0.25, in its own venv, submits ``shout`` and follows the processes.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from platforms.colonies.colonies_harness import pycolonies_python
from scaleout.scaleout_helpers import Replicas, local_colony
from support import environ_without

from polynb.platforms.colonies import crypto

HERE = Path(__file__).resolve().parent / "colonies"
SAMPLE = HERE / "sample.ipynb"
EXECUTOR_TYPE = "shouter"


@pytest.fixture(scope="module")
def colony(tmp_path_factory):
    """The local Colonies server, and the variables its JSON says a client sets."""
    with local_colony(tmp_path_factory.mktemp("colonies-server")) as info:
        yield info


@pytest.fixture
def replicas(tmp_path):
    started = Replicas(tmp_path)
    yield started
    started.stop_all()


def deployment_env(colony: dict, name: str) -> tuple[dict[str, str], str]:
    """What a Colonies executor deployment sets for one executor, and that executor's id."""
    key = crypto.generate_private_key()
    env = {"COLONIES_SERVER_HOST": colony["host"], "COLONIES_SERVER_PORT": str(colony["port"]),
           "COLONIES_SERVER_TLS": "false", "COLONIES_COLONY_NAME": colony["colony_name"],
           "COLONIES_COLONY_PRVKEY": colony["colony_prvkey"], "COLONIES_PRVKEY": key,
           "COLONIES_EXECUTOR_NAME": name, "COLONIES_EXECUTOR_TYPE": EXECUTOR_TYPE}
    return env, crypto.identity(key)


def submit_with_pycolonies(colony: dict, executor_ids: list[str]) -> dict[str, dict]:
    """Run the pycolonies submitter until each executor took a share; processid -> how it ended."""
    env = environ_without(("COLONIES_", "PYTHONPATH"), **colony["env"], SHOUT_TYPE=EXECUTOR_TYPE,
                          SHOUT_EXECUTORS=",".join(executor_ids))
    done = subprocess.run([str(pycolonies_python()), str(HERE / "submitter.py")], capture_output=True, text=True,
                          timeout=600, env=env, cwd=HERE, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_serve_with_the_deployment_variables_is_the_named_executor_and_closes_pycolonies_processes(
        colony, replicas):
    env, executor_id = deployment_env(colony, "shout-deploy-a")
    replica = replicas.start("a", SAMPLE, env)
    expected = (f"serving colonies shout v1 {colony['url']} colony {colony['colony_name']}, "
                f"executor shout-deploy-a (type {EXECUTOR_TYPE})")
    assert replica.wait_serving() == [expected]
    ended = submit_with_pycolonies(colony, [executor_id])
    assert len(ended) == 10
    for process in ended.values():
        assert process["state"] == 2 and process["errors"] == [] and process["executor"] == executor_id
        assert process["out"] == [process["args"][0].upper(), "shout-deploy-a"]
    journaled = {r.meta["processid"] for r in replica.journal("colonies", "shout") if r.status == "succeeded"}
    assert journaled == set(ended)
    assert replica.stop() == 0, replica.log()


@pytest.mark.slow
def test_two_deployed_executors_with_their_own_names_both_take_work_from_one_colony(colony, replicas):
    deployments = {label: deployment_env(colony, f"shout-pair-{label}") for label in ("a", "b")}
    started = {label: replicas.start(label, SAMPLE, env) for label, (env, _) in deployments.items()}
    for label, replica in started.items():
        assert f"executor shout-pair-{label} (type {EXECUTOR_TYPE})" in replica.wait_serving()[0]
    names_by_id = {executor_id: f"shout-pair-{label}" for label, (_, executor_id) in deployments.items()}
    ended = submit_with_pycolonies(colony, list(names_by_id))
    assert {process["executor"] for process in ended.values()} == set(names_by_id)
    for process in ended.values():
        assert process["state"] == 2 and process["out"] == [process["args"][0].upper(), names_by_id[process["executor"]]]
    for replica in started.values():
        assert replica.stop() == 0, replica.log()
