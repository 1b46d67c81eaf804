"""ColonyOS benchmark: polynb against pycolonies 1.0.25 on the same local Colonies server, in one run.

1. submit -> assign -> close round trips per second with 1 and 4 executors: polynb's executor (one executor,
   K long-poll loops in a service of its own, in a process of its own) against K pycolonies executor
   processes running the SDK's assign/close loop; the same submitter and the same server for both.
2. Signatures per second: polynb's sign and recover against pycolonies' (pure-Python) sign.
   pycolonies cannot recover a signer, so recover has no ratio.

    .venv/bin/python benchmarks/colonies.py [--processes 100] [--signatures 2000]
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness

from polynb.platforms.colonies import crypto, wire
from polynb.platforms.colonies.client import ColoniesClient

PEER_EXECUTOR = """
import os
from pycolonies import colonies_client
from crypto import Crypto
client, colony, colony_key, _, _ = colonies_client()
crypto = Crypto()
name, executortype = os.environ["BENCH_NAME"], os.environ["BENCH_TYPE"]
key = crypto.prvkey()
client.add_executor({"executorname": name, "executorid": crypto.id(key), "colonyname": colony,
                     "executortype": executortype}, colony_key)
client.approve_executor(colony, name, colony_key)
print("READY {}", flush=True)
while True:
    try:
        process = client.assign(colony, 5, key)
    except Exception as exc:
        if "No process available" in str(exc):
            continue
        raise
    client.close(process.processid, process.spec.args, key)
"""

PEER_SIGN = """
import json, sys, time
from crypto import Crypto
crypto = Crypto()
key, messages = json.loads(sys.stdin.read())
start = time.perf_counter()
for message in messages:
    crypto.sign(message, key)
print(json.dumps(len(messages) / (time.perf_counter() - start)))
"""


def start_server(state: Path) -> harness.Child:
    env = {"POLYNB_COLONIES_LOCAL_PORT": "0", "POLYNB_COLONIES_LOCAL_STATE": str(state)}
    environ = {key: value for key, value in os.environ.items() if key != "COLONIES_SERVER_HOST"}
    return harness.Child("colonies-server", [sys.executable, "-m", "polynb", "up", "colonies", "--json"],
                         env={**environ, **env}, inherit_env=False, folder=state.parent, stdin_stops=False)


def server_info(server: harness.Child) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in server.log.read_text().splitlines():
            if line.startswith("{"):
                return json.loads(line)["colonies"]
        time.sleep(0.05)
    raise RuntimeError("polynb up colonies printed no address")


def client_env(info: dict) -> dict:
    return {"COLONIES_SERVER_HOST": info["host"], "COLONIES_SERVER_PORT": str(info["port"]),
            "COLONIES_SERVER_TLS": "false", "COLONIES_COLONY_NAME": info["colony_name"],
            "COLONIES_COLONY_PRVKEY": info["colony_prvkey"]}


async def submit_and_drain(info: dict, executortype: str, count: int) -> float:
    """Submit ``count`` echo processes and wait until none is waiting or running; round trips per second."""
    client = ColoniesClient(info["host"], info["port"])
    key = crypto.generate_private_key()
    await client.add_user(info["colony_name"], f"bench-{key[:8]}", key, info["colony_prvkey"])
    spec = wire.function_spec("echo", colonyname=info["colony_name"], executortype=executortype, args=["x"],
                              maxexectime=60, maxretries=0)
    start = time.perf_counter()
    await asyncio.gather(*(client.submit(spec, key) for _ in range(count)))
    while any([await client.get_processes(info["colony_name"], state, key) for state in (wire.WAITING, wire.RUNNING)]):
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    done = await client.rpc({"msgtype": "getprocessesmsg", "colonyname": info["colony_name"], "count": 100,
                             "state": wire.SUCCESS, "executortype": executortype}, key)
    await client.close()
    if len(done or []) != min(count, 100):
        raise RuntimeError("every submitted process must have succeeded")
    return count / elapsed


def serve(workdir: str, executors: str, info: str) -> None:
    """The child: polynb's executor, ``executors`` assign loops, in a service of its own."""
    from polynb.config import Settings
    from polynb.journal import Journal
    from polynb.payload import Payload
    from polynb.platforms.colonies.settings import ColoniesSettings
    from polynb.service import Service

    folder, loops = Path(workdir), int(executors)
    environ = {**client_env(json.loads(info)), "POLYNB_COLONIES_ASSIGN_TIMEOUT": "5",
               "POLYNB_WORKERS": str(max(4, loops))}
    (folder / "polynb.yaml").write_text("")
    settings = Settings({"colonies": ColoniesSettings}, environ=environ, path=folder / "polynb.yaml")
    service = Service(settings=settings, journal=Journal(folder / f".polynb-{loops}"))
    service.register(Payload("colonies", "echo", "def echo(*args):\n    return list(args)\n", None,
                             {"executortype": f"polynb-{loops}", "concurrency": loops}, True))
    harness.ready()
    service.stop(timeout=5)


def polynb_round_trips(info: dict, executors: int, count: int, workdir: Path) -> float:
    with harness.Child.script(f"colonies-polynb-{executors}", __file__, str(workdir), str(executors),
                              json.dumps(info), folder=workdir, profile=True) as ours:
        ours.ready()
        return asyncio.run(submit_and_drain(info, f"polynb-{executors}", count))


def pycolonies_round_trips(info: dict, executors: int, count: int, python: Path, workdir: Path) -> float:
    executortype = f"pycolonies-{executors}"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(client_env(info), BENCH_TYPE=executortype)
    loops = [harness.Child(f"{executortype}-{i}", [str(python), "-c", PEER_EXECUTOR],
                           env={**env, "BENCH_NAME": f"{executortype}-{i}"}, inherit_env=False, cwd="/",
                           folder=workdir, stdin_stops=False) for i in range(executors)]
    try:
        for loop in loops:
            loop.ready()
        return asyncio.run(submit_and_drain(info, executortype, count))
    finally:
        for loop in loops:
            loop.stop()


def signatures(python: Path, count: int) -> dict[str, float]:
    key = crypto.generate_private_key()
    messages = [f"payload-{i}" for i in range(count)]
    start = time.perf_counter()
    signed = [crypto.sign(message, key) for message in messages]
    sign_rate = count / (time.perf_counter() - start)
    start = time.perf_counter()
    for message, signature in zip(messages, signed, strict=True):
        crypto.recover(message, signature)
    recover_rate = count / (time.perf_counter() - start)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(python), "-c", PEER_SIGN], input=json.dumps([key, messages]), capture_output=True,
                          text=True, check=True, env=env, cwd="/")
    return {"sign": sign_rate, "peer sign": json.loads(done.stdout), "recover": recover_rate}


def run(args) -> dict:
    processes, signed = (20, 200) if args.quick else (args.processes, args.signatures)
    python = harness.peer_python("colonies", ["pycolonies==1.0.25"])
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        with start_server(workdir / "server.sqlite") as server:
            info = server_info(server)
            for executors in (1, 4):
                rows[f"round trips/s, {executors} executor(s)"] = (
                    polynb_round_trips(info, executors, processes, workdir),
                    pycolonies_round_trips(info, executors, processes, python, workdir))
    rates = signatures(python, signed)
    rows["sign/s"] = (rates["sign"], rates["peer sign"])
    rows["recover/s"] = (rates["recover"], None)
    print(f"ColonyOS, {processes} processes per round-trip run, {signed} signatures")
    print(f"{'measure':<34}{'polynb':>10}{'pycolonies':>12}")
    for name, (ours, theirs) in rows.items():
        print(f"{name:<34}{ours:>10.1f}{(f'{theirs:.1f}' if theirs else 'n/a'):>12}")
    one = rows["round trips/s, 1 executor(s)"]
    return {"rows": rows, "ratios": {"round_trips_per_s": round(one[0], 1),
                                     "round_trip_ratio": harness.ratio(*one),
                                     "sign_ratio": harness.ratio(*rows["sign/s"]),
                                     "recover_per_s": round(rates["recover"], 1)}}


def arguments():
    parser = harness.parser(__doc__)
    parser.add_argument("--processes", type=int, default=100, help="processes per round-trip run (at most 100)")
    parser.add_argument("--signatures", type=int, default=2000)
    return parser


if __name__ == "__main__":
    sys.exit(harness.main(arguments, run, serve))
