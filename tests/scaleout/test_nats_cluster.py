"""AIO on a NATS cluster: `polynb up aio --cluster 3` (three nats-servers, JetStream, the workflow stream replicated
on all three), two `polynb serve` replicas of one notebook, a stream of requests, and the stream leader's
nats-server SIGKILLed mid-stream. Every request is answered and none is lost; a request answered twice is counted
and must be explained by JetStream's at-least-once delivery (docs/deploy.md, "Running on a NATS cluster").
"""
from __future__ import annotations

import asyncio
import collections
import os
import signal
from pathlib import Path

import pytest
from loop_thread import LoopThread
from processes import alive
from scaleout_helpers import Replicas, clean_env
from support import Standin, wait_until, write_notebook

from polynb.platforms.aio import names, wire

START = 240  # seconds a replica may take to start its kernel and run its notebook on a loaded machine
SETTLE = 180  # seconds for the work to be done, the leader election and redeliveries included
REQUESTS = 300
KILL_AFTER = 100  # answers seen before the stream leader is killed; the rest are in flight or not yet sent
PRODUCT, VERSION, WORKFLOW = "polynb", "v1.0.0", "cluster"
STREAM = names.stream(PRODUCT, VERSION, WORKFLOW)
KRT = f"""
version: {VERSION}
description: the cluster test's product
workflows:
  - name: {WORKFLOW}
    type: data
    processes:
      - name: trig
        type: trigger
        image: x
        subscriptions: [work]
      - name: work
        type: task
        image: x
        subscriptions: [trig]
"""


def worker_notebook(folder: Path) -> Path:
    """A task node that answers each request with its input and the pid of the kernel that handled it."""
    return write_notebook(folder / "worker.ipynb", "%load_ext polynb", f"""\
%%aio_node work --runner task --workflow {WORKFLOW} --subscribe trig
import os
import polynb.platforms.aio.api as aio

def handler(sdk, payload):
    sdk.messaging.send_output({{"value": aio.unpack(payload), "pid": os.getpid()}})
""")


@pytest.fixture
def cluster(tmp_path):
    """`polynb up aio --cluster 3 --json`, the product set up from a KRT file, as a user runs it."""
    folder = tmp_path / "nats"
    folder.mkdir()
    (folder / "krt.yaml").write_text(KRT)
    up = Standin("aio", "--cluster", "3", cwd=folder, env=clean_env(POLYNB_AIO_KRT=str(folder / "krt.yaml")))
    try:
        yield up.info
    finally:
        assert up.stop() == 0, up.log()


class Workflow:
    """The test's side: publishes requests as the trigger would (with a message id, so that a publish retried
    across the failover is stored once), and reads every answer from a durable consumer of the node's output
    subject, keeping each delivery's stream sequence so that a redelivery to the observer is told apart from a
    second answer."""

    def __init__(self, urls: list[str]) -> None:
        import nats

        self.loops = LoopThread()
        self.nc = self.loops.run(nats.connect(urls, max_reconnect_attempts=-1, reconnect_time_wait=0.2))
        self.js = self.nc.jetstream(timeout=2)
        self.answers: list[dict] = []
        self.publish_retries = 0

        async def on_answer(msg) -> None:
            message = wire.decode(msg.data)
            answer = wire.unpack(message.payload)
            self.answers.append({"request_id": message.request_id, "value": int(answer["value"]),
                                 "pid": int(answer["pid"]), "sequence": msg.metadata.sequence.stream})
            try:
                await msg.ack()
            except Exception:  # the connection is failing over: the answer comes again, as a redelivery
                pass

        self.loops.run(self.js.subscribe(f"{STREAM}.work", durable="observer", cb=on_answer, manual_ack=True))

    def send(self, index: int, timeout: float = SETTLE) -> None:
        """Publish request ``index`` until JetStream acknowledges it; during the election a publish may get no
        PubAck though it was stored, and the message id makes the retry a no-op then."""
        data = wire.ok_message(f"req-{index}", wire.pack(index), "trig").SerializeToString()

        async def publish() -> None:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                try:
                    await self.js.publish(f"{STREAM}.trig", data, headers={"Nats-Msg-Id": f"req-{index}"})
                    return
                except Exception:
                    if asyncio.get_running_loop().time() > deadline:
                        raise
                    self.publish_retries += 1
                    await asyncio.sleep(0.2)

        self.loops.run(publish(), timeout + 10)

    def answered(self) -> set[str]:
        return {answer["request_id"] for answer in self.answers}

    def stream_leader(self) -> str | None:
        """The stream leader's server name (None while there is none: during an election)."""
        try:
            return self.loops.run(self.js.stream_info(STREAM)).cluster.leader
        except Exception:
            return None

    def stream_replicas(self) -> int:
        return self.loops.run(self.js.stream_info(STREAM)).config.num_replicas

    def consumer(self):
        return self.loops.run(self.js.consumer_info(STREAM, names.durable(f"{STREAM}.trig", "work")))

    def close(self) -> None:
        self.loops.run(self.nc.close())
        self.loops.close()


@pytest.fixture
def workflow(cluster):
    opened = Workflow(cluster["urls"])
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def replicas(tmp_path):
    started = Replicas(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def records(replica) -> list:
    return replica.journal("aio", "work")


def test_aio_on_a_three_node_cluster_loses_nothing_when_the_stream_leader_is_killed(
        tmp_path, cluster, workflow, replicas):
    assert cluster["url"] == ",".join(cluster["urls"]) and len(cluster["members"]) == 3
    assert workflow.stream_replicas() == 3
    notebook = worker_notebook(tmp_path / "src")
    env = {"KAI_NATS_URL": cluster["url"], "POLYNB_AIO_ACK_WAIT": "5"}
    a, b = (replicas.start(label, notebook, env) for label in ("a", "b"))
    for replica in (a, b):
        replica.wait_serving(START)
    both_alive = lambda: [r.check_alive() for r in (a, b)]  # noqa: E731

    # the first part of the stream; once KILL_AFTER are answered the rest of it is still in flight
    for index in range(REQUESTS // 2):
        workflow.send(index)
    wait_until(lambda: len(workflow.answered()) >= KILL_AFTER, SETTLE, f"{KILL_AFTER} answers", alive=both_alive)
    leader = workflow.stream_leader()
    victim = next(member for member in cluster["members"] if member["name"] == leader)
    os.kill(victim["pid"], signal.SIGKILL)
    wait_until(lambda: not alive(victim["pid"]), 30, f"nats-server {leader} to be gone")

    # the second part goes to the cluster while it elects a new leader and the clients fail over
    for index in range(REQUESTS // 2, REQUESTS):
        workflow.send(index)
    expected = {f"req-{i}" for i in range(REQUESTS)}
    wait_until(lambda: workflow.answered() == expected, SETTLE, "every request answered", alive=both_alive)
    assert wait_until(lambda: workflow.stream_leader() not in (None, leader), SETTLE, "a new stream leader")
    wait_until(lambda: (lambda info: info.num_pending == 0 and info.num_ack_pending == 0)(workflow.consumer()),
               SETTLE, "every request acked")
    wait_until(lambda: all(r.status not in ("received", "running") for r in records(a) + records(b)), SETTLE,
               "both journals closed")

    # none lost: each request has a succeeded record in one of the journals, and the right answer
    handled = collections.Counter(r.input["request_id"] for r in records(a) + records(b) if r.status == "succeeded")
    assert set(handled) == expected
    assert all(answer["value"] == int(answer["request_id"][4:]) for answer in workflow.answers)
    assert {answer["pid"] for answer in workflow.answers} <= {a.kernel_pid, b.kernel_pid}

    # duplicates, counted and explained. JetStream delivers at least once: an ack (or a PubAck) that was on its
    # way through the dead server is lost, and the message comes again once the ack wait has passed.
    # (1) the observer saw one stored answer twice (same stream sequence): its own ack was lost;
    # (2) an answer stored twice (two sequences) means the work node handled the request twice: the second
    #     handling is a redelivery (JetStream's delivery count above 1 in the journal record).
    seen = collections.Counter((answer["request_id"], answer["sequence"]) for answer in workflow.answers)
    observer_redeliveries = sum(count - 1 for count in seen.values())
    sequences = collections.defaultdict(set)
    for request_id, sequence in seen:
        sequences[request_id].add(sequence)
    answered_twice = {request_id for request_id, stored in sequences.items() if len(stored) > 1}
    handled_twice = {request_id for request_id, count in handled.items() if count > 1}
    assert answered_twice <= handled_twice, "an answer stored twice comes from a request handled twice"
    redelivered = {r.input["request_id"] for r in records(a) + records(b) if (r.meta.get("delivered") or 1) > 1}
    assert handled_twice <= redelivered, "a request handled twice was a redelivery"
    print(f"\n{REQUESTS} requests; stream leader {leader} killed after {KILL_AFTER} answers; publish retries "
          f"{workflow.publish_retries}; handled twice {len(handled_twice)}; answers stored twice "
          f"{len(answered_twice)}; observer redeliveries {observer_redeliveries}; redelivered requests "
          f"{len(redelivered)}; handled by a/b {len(records(a))}/{len(records(b))}")
    for replica in (a, b):
        assert replica.stop() == 0, replica.log()
