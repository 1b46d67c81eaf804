"""Scale-out with `polynb serve`: several replicas of one notebook share a platform's work, and killing one
loses nothing. Everything is real: `polynb up` for the platform's server, `polynb serve` processes each with
its own kernel, working folder and journal, on 127.0.0.1; the platforms' own engines do the balancing
(a NATS queue group for AIO, Colonies assignment for ColonyOS). No timing assertions: every wait is a
condition with a generous timeout.
"""
from __future__ import annotations

import collections
from pathlib import Path

import pytest
from loop_thread import LoopThread
from scaleout_helpers import Replicas, local_colony, standin_in
from support import wait_until, write_notebook

from polynb.platforms.aio import names, wire
from polynb.platforms.colonies import crypto
from polynb.platforms.colonies import wire as cwire
from polynb.platforms.colonies.client import ColoniesClient

START = 240  # seconds a replica may take to start its kernel and run its notebook on a loaded machine
SETTLE = 120  # seconds for the work of a test to be done (redeliveries and reassignments included)


@pytest.fixture
def replicas(tmp_path):
    started = Replicas(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def start_pair(replicas: Replicas, notebook: Path, env_of) -> tuple:
    """Two replicas of one notebook, started together; returns them once both serve."""
    pair = tuple(replicas.start(label, notebook, env_of(label)) for label in ("a", "b"))
    for replica in pair:
        replica.wait_serving(START)
    return pair


# -- AIO (Konstellation KAI): two nodes in one queue group -------------------------------------------------------

PRODUCT, VERSION = "polynb", "v1.0.0"  # the defaults of KAI_PRODUCT_ID and KAI_VERSION_TAG
KRT = """
version: v1.0.0
description: the scale-out tests' product
workflows:
""" + "".join(f"""
  - name: {workflow}
    type: data
    processes:
      - name: trig
        type: trigger
        image: x
        subscriptions: [work]
      - name: work
        type: task
        image: x
        objectStore: {{name: ephemeral, scope: workflow}}
        subscriptions: [trig]
""" for workflow in ("split", "kill"))


def aio_notebook(folder: Path, workflow: str) -> Path:
    """A task node that answers with its input and the pid of the kernel that handled it; a file ``hold`` in the
    replica's working folder parks its handler (the kill test's way of catching a replica mid-message)."""
    return write_notebook(folder / "worker.ipynb", "%load_ext polynb", f"""\
%%aio_node work --runner task --workflow {workflow} --subscribe trig
import os, time
import polynb.platforms.aio.api as aio

def handler(sdk, payload):
    value = aio.unpack(payload)
    while os.path.exists("hold"):
        time.sleep(0.05)
    sdk.messaging.send_output({{"value": value, "pid": os.getpid()}})
""")


@pytest.fixture(scope="module")
def nats(tmp_path_factory):
    """ONE nats-server for the module, set up by `polynb up aio` from a KRT file as the KAI managers would."""
    folder = tmp_path_factory.mktemp("nats")
    (folder / "krt.yaml").write_text(KRT)
    up = standin_in(folder, "aio", POLYNB_AIO_KRT=str(folder / "krt.yaml"))
    try:
        yield up.info["url"]
    finally:
        assert up.stop() == 0


class Kai:
    """The test's side of the workflow: publishes requests as the trigger would, and reads every answer from a
    durable JetStream consumer of the node's output subject (so no answer can slip by)."""

    def __init__(self, url: str, workflow: str) -> None:
        import nats as nats_py

        self.stream = names.stream(PRODUCT, VERSION, workflow)
        self.loops = LoopThread()
        self.nc = self.loops.run(nats_py.connect(url))
        self.js = self.nc.jetstream()
        self.answers: list[dict] = []

        async def on_answer(msg) -> None:
            message = wire.decode(msg.data)
            answer = wire.unpack(message.payload)
            self.answers.append({"request_id": message.request_id, "value": int(answer["value"]),
                                 "pid": int(answer["pid"]), "type": message.message_type})
            await msg.ack()

        self.loops.run(self.js.subscribe(f"{self.stream}.work", durable=f"observer-{workflow}", cb=on_answer,
                                         manual_ack=True))

    def send(self, index: int) -> None:
        data = wire.ok_message(f"req-{index}", wire.pack(index), "trig").SerializeToString()
        self.loops.run(self.js.publish(f"{self.stream}.trig", data))

    def answered(self) -> set[str]:
        return {answer["request_id"] for answer in self.answers}

    def consumer(self):
        return self.loops.run(self.js.consumer_info(self.stream, names.durable(f"{self.stream}.trig", "work")))

    def close(self) -> None:
        self.loops.run(self.nc.close())
        self.loops.close()


@pytest.fixture
def kai_client(nats):
    opened = []

    def open_for(workflow: str) -> Kai:
        opened.append(Kai(nats, workflow))
        return opened[-1]

    try:
        yield open_for
    finally:
        for client in opened:
            client.close()


def aio_env(nats_url: str, **extra: str):
    return lambda label: {"KAI_NATS_URL": nats_url, **extra}


def handled(replica, statuses=("succeeded",)) -> list[str]:
    return [r.input["request_id"] for r in replica.journal("aio", "work") if r.status in statuses]


def test_aio_two_serve_replicas_share_one_queue_group(tmp_path, nats, replicas, kai_client):
    a, b = start_pair(replicas, aio_notebook(tmp_path / "src", "split"), aio_env(nats))
    stream = names.stream(PRODUCT, VERSION, "split")
    assert a.wait_serving()[0] == f"serving aio work v1 {stream}.trig → {stream}.work"
    kai = kai_client("split")
    # A replica prints its serving line once its node is registered; its consumer may join the queue group a
    # moment later. Send rounds of 20 until both have answered (at most 10 rounds), then check them all.
    count = 0
    while count < 200:
        for index in range(count, count + 20):
            kai.send(index)
        count += 20
        expected = {f"req-{i}" for i in range(count)}
        wait_until(lambda: kai.answered() == expected, SETTLE, "every request answered", alive=lambda: [
            r.check_alive() for r in (a, b)])
        if len({answer["pid"] for answer in kai.answers}) == 2:
            break
    wait_until(lambda: len(handled(a)) + len(handled(b)) == count, SETTLE, "both journals closed")

    # both replicas took a share: the answers carry the pid of the kernel that handled them, and each
    # replica's own journal holds the ones it handled
    by_pid = collections.Counter(answer["pid"] for answer in kai.answers)
    assert set(by_pid) == {a.kernel_pid, b.kernel_pid}, by_pid
    first, second = handled(a), handled(b)
    assert first and second
    # no message handled twice, none lost: the journals partition the requests, each answered once
    assert sorted(first + second) == sorted(expected)
    assert not set(first) & set(second)
    assert sorted(answer["request_id"] for answer in kai.answers) == sorted(expected)
    assert all(answer["value"] == int(answer["request_id"][4:]) for answer in kai.answers)
    info = kai.consumer()
    assert (info.num_pending, info.num_ack_pending, info.num_redelivered) == (0, 0, 0)
    assert info.config.deliver_group == names.durable(f"{stream}.trig", "work")  # one queue group, both replicas

    for replica in (a, b):  # SIGTERM drains and exits 0
        assert replica.stop() == 0, replica.log()


def test_aio_a_sigkilled_replicas_messages_go_to_the_survivor_exactly_once(tmp_path, nats, replicas, kai_client):
    ack_wait = "3"  # seconds before a message held by a dead replica goes to another (default 30)
    a, b = start_pair(replicas, aio_notebook(tmp_path / "src", "kill"), aio_env(nats, POLYNB_AIO_ACK_WAIT=ack_wait))
    kai = kai_client("kill")
    both_alive = lambda: [r.check_alive() for r in (a, b)]  # noqa: E731
    for index in range(10):
        kai.send(index)
    wait_until(lambda: len(kai.answered()) == 10, SETTLE, "the first 10 answers", alive=both_alive)
    wait_until(lambda: len(handled(a)) + len(handled(b)) == 10, SETTLE, "the first 10 journal records closed")

    # park replica a inside a handler, then send more: a takes its share of the queue group, holds one message
    # in its handler and the rest unacked in its client buffer; b answers its own share
    (a.folder / "hold").touch()
    for index in range(10, 40):
        kai.send(index)
    held = wait_until(lambda: [r.input["request_id"] for r in a.journal("aio", "work")
                               if r.status in ("received", "running")], SETTLE, "replica a to hold a message",
                      alive=both_alive)
    assert kai.consumer().num_ack_pending >= 1
    before = set(kai.answered())
    victims = a.sigkill()
    assert a.kernel_pid in victims

    expected = {f"req-{i}" for i in range(40)}
    wait_until(lambda: kai.answered() == expected, SETTLE, "every request answered after the kill",
               alive=b.check_alive)
    wait_until(lambda: (lambda info: info.num_pending == 0 and info.num_ack_pending == 0)(kai.consumer()), SETTLE,
               "every input acked")

    answers = collections.Counter(answer["request_id"] for answer in kai.answers)
    assert answers == collections.Counter(expected), "every request answered exactly once"
    from_a, from_b = handled(a), handled(b)
    assert not set(from_a) & set(from_b)
    assert sorted(from_a + from_b) == sorted(expected)
    # what a held when it died was redelivered and handled by b; a never answered it
    assert held[0] not in before and held[0] in from_b
    assert {answer["pid"] for answer in kai.answers if answer["request_id"] in held} == {b.kernel_pid}
    redelivered = [r.input["request_id"] for r in b.journal("aio", "work") if r.meta.get("delivered", 1) > 1]
    assert set(held) <= set(redelivered)  # b saw them as redeliveries (JetStream's delivery count above 1)
    assert b.stop() == 0, b.log()


# -- ColonyOS: two executors in one colony ------------------------------------------------------------------------

def colonies_notebook(folder: Path, executortype: str) -> Path:
    """A function that returns its argument and the pid of the kernel that ran it; a file ``hold`` in the
    replica's working folder parks it (the kill test's way of catching a replica holding a process)."""
    return write_notebook(folder / "worker.ipynb", "%load_ext polynb", f"""\
%%colonies_func work --executortype {executortype}
import os, time

def work(i):
    time.sleep(0.1)
    while os.path.exists("hold"):
        time.sleep(0.05)
    return [i, os.getpid()]
""")


@pytest.fixture(scope="module")
def colony(tmp_path_factory):
    """ONE Colonies server for the module (`polynb up colonies --json`), and what its JSON says a client sets."""
    with local_colony(tmp_path_factory.mktemp("colonies")) as info:
        yield info


class Submitter:
    """A colony user of the test's own (added with the colony owner's key) that submits and watches processes."""

    def __init__(self, info: dict) -> None:
        self.info = info
        self.loops = LoopThread()
        self.client = self.loops.run(self._client())
        self.key = crypto.generate_private_key()
        self.loops.run(self.client.add_user(info["colony_name"], f"submitter-{crypto.identity(self.key)[:8]}",
                                            self.key, info["colony_prvkey"]))

    async def _client(self) -> ColoniesClient:
        return ColoniesClient(self.info["host"], self.info["port"])

    def submit(self, executortype: str, index: int, maxexectime: int) -> str:
        spec = cwire.function_spec("work", colonyname=self.info["colony_name"], executortype=executortype,
                                   args=[index], maxexectime=maxexectime, maxretries=5)
        return self.loops.run(self.client.submit(spec, self.key))["processid"]

    def processes(self, ids: list[str]) -> dict[str, dict]:
        return {pid: self.loops.run(self.client.get_process(pid, self.key)) for pid in ids}

    def executor_ids(self) -> dict[str, str]:
        executors = self.loops.run(self.client.get_executors(self.info["colony_name"], self.key))
        return {e["executorname"]: e["executorid"] for e in executors}

    def close(self) -> None:
        self.loops.run(self.client.close())
        self.loops.close()


@pytest.fixture
def submitter(colony):
    opened = Submitter(colony)
    try:
        yield opened
    finally:
        opened.close()


def colonies_env(info: dict, prefix: str):
    """Exactly the ``env`` of `polynb up colonies --json`, plus a name of its own for each replica's executor."""
    return lambda label: {**info["env"], "COLONIES_EXECUTOR_NAME": f"{prefix}-{label}",
                          "POLYNB_COLONIES_ASSIGN_TIMEOUT": "5"}


def all_ended(submitter: Submitter, ids: list[str]):
    processes = submitter.processes(ids)
    done = all(p["state"] in (cwire.SUCCESS, cwire.FAILED, cwire.CANCELLED) for p in processes.values())
    return processes if done else None


def executed(replica) -> list[str]:
    return [r.meta["processid"] for r in replica.journal("colonies", "work") if r.status == "succeeded"]


def test_colonies_two_serve_replicas_share_the_colonys_processes(tmp_path, colony, replicas, submitter):
    a, b = start_pair(replicas, colonies_notebook(tmp_path / "src", "scaleout-split"), colonies_env(colony, "split"))
    assert "executor split-a" in a.wait_serving()[0] and "executor split-b" in b.wait_serving()[0]
    # As for AIO: submit rounds of 10 until both executors have run some (at most 10 rounds), then check all.
    ids: list[str] = []
    while len(ids) < 100:
        ids += [submitter.submit("scaleout-split", index, maxexectime=60) for index in range(len(ids), len(ids) + 10)]
        processes = wait_until(lambda: all_ended(submitter, ids), SETTLE, "every process to end",
                               alive=lambda: [r.check_alive() for r in (a, b)])
        if len({p["assignedexecutorid"] for p in processes.values()}) == 2:
            break
    count = len(ids)
    executors = submitter.executor_ids()

    assert [p["state"] for p in processes.values()] == [cwire.SUCCESS] * count
    assert [int(processes[pid]["out"][0]) for pid in ids] == list(range(count))
    # both executors ran some: the server's assignment, the kernels' pids and each replica's own journal agree
    ran_by = collections.Counter(p["assignedexecutorid"] for p in processes.values())
    assert set(ran_by) == {executors["split-a"], executors["split-b"]}, ran_by
    pids = {int(p["out"][1]) for p in processes.values()}
    assert pids == {a.kernel_pid, b.kernel_pid}
    wait_until(lambda: len(executed(a)) + len(executed(b)) == count, SETTLE, "both journals closed")
    first, second = executed(a), executed(b)
    assert first and second and not set(first) & set(second)
    assert sorted(first + second) == sorted(ids)
    assert all(p["retries"] == 0 for p in processes.values())
    for replica in (a, b):
        assert replica.stop() == 0, replica.log()


def test_colonies_a_sigkilled_replicas_process_is_reassigned_and_completes_on_the_survivor(
        tmp_path, colony, replicas, submitter):
    maxexectime = 5  # seconds the server lets an assigned process run before it hands it to another executor
    a, b = start_pair(replicas, colonies_notebook(tmp_path / "src", "scaleout-kill"), colonies_env(colony, "kill"))
    both_alive = lambda: [r.check_alive() for r in (a, b)]  # noqa: E731
    (a.folder / "hold").touch()
    count = 12
    ids = [submitter.submit("scaleout-kill", index, maxexectime=maxexectime) for index in range(count)]
    held = wait_until(lambda: [r.meta["processid"] for r in a.journal("colonies", "work")
                               if r.status in ("received", "running")], SETTLE, "replica a to hold a process",
                      alive=both_alive)
    assert [r.meta["executor"] for r in a.journal("colonies", "work")] == ["kill-a"]  # a holds exactly one
    victims = a.sigkill()
    assert a.kernel_pid in victims

    processes = wait_until(lambda: all_ended(submitter, ids), SETTLE, "every process to end", alive=b.check_alive)
    executors = submitter.executor_ids()
    assert [p["state"] for p in processes.values()] == [cwire.SUCCESS] * count, "every process successful"
    assert [int(processes[pid]["out"][0]) for pid in ids] == list(range(count))
    # the process a held came back after maxexectime and completed on b
    rescued = processes[held[0]]
    assert rescued["retries"] >= 1
    assert rescued["assignedexecutorid"] == executors["kill-b"] and int(rescued["out"][1]) == b.kernel_pid
    from_a, from_b = executed(a), executed(b)
    assert held[0] in from_b and held[0] not in from_a
    assert sorted(from_a + from_b) == sorted(ids), "each process executed once to success, none lost"
    assert b.stop() == 0, b.log()
