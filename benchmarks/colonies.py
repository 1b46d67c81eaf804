"""ColonyOS benchmark: polynb against pycolonies 1.0.25 on the same local Colonies server, in one run.

1. submit -> assign -> close round trips per second with 1 and 4 executors: polynb's executor (one
   executor, K long-poll loops in the kernel-side service) against K pycolonies executor processes
   running the SDK's assign/close loop; the same submitter and the same server for both.
2. Signatures per second: polynb's sign and recover against pycolonies' (pure-Python) sign.
   pycolonies cannot recover a signer, so recover has no ratio.

Run: .venv/bin/python benchmarks/colonies.py [--processes 100]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from peers import peer_python  # noqa: E402

from polynb.config import CORE_SETTINGS, Settings  # noqa: E402
from polynb.journal import Journal  # noqa: E402
from polynb.payload import Payload  # noqa: E402
from polynb.platforms.colonies import crypto, wire  # noqa: E402
from polynb.platforms.colonies.client import ColoniesClient  # noqa: E402
from polynb.platforms.colonies.settings import SETTINGS  # noqa: E402
from polynb.service import Service  # noqa: E402

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
print("ready", flush=True)
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


def start_server(state: Path) -> tuple[subprocess.Popen, dict]:
    env = {**os.environ, "POLYNB_COLONIES_LOCAL_PORT": "0", "POLYNB_COLONIES_LOCAL_STATE": str(state)}
    env.pop("COLONIES_SERVER_HOST", None)
    process = subprocess.Popen([sys.executable, "-m", "polynb", "up", "colonies", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=env)
    return process, json.loads(process.stdout.readline())["colonies"]


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
    assert len(done or []) == min(count, 100), "every submitted process must have succeeded"
    return count / elapsed


def polynb_round_trips(info: dict, executors: int, count: int, workdir: Path) -> float:
    environ = {**client_env(info), "POLYNB_COLONIES_ASSIGN_TIMEOUT": "5", "POLYNB_WORKERS": str(max(4, executors))}
    (workdir / "polynb.yaml").write_text("")
    settings = Settings({"core": CORE_SETTINGS, "colonies": SETTINGS}, environ=environ, path=workdir / "polynb.yaml")
    service = Service(settings=settings, journal=Journal(workdir / f".polynb-{executors}"))
    try:
        executortype = f"polynb-{executors}"
        service.register(Payload("colonies", "echo", "def echo(*args):\n    return list(args)\n", None,
                                 {"executortype": executortype, "concurrency": executors}, True))
        return asyncio.run(submit_and_drain(info, executortype, count))
    finally:
        service.stop(timeout=5)


def pycolonies_round_trips(info: dict, executors: int, count: int, python: Path) -> float:
    executortype = f"pycolonies-{executors}"
    env = {**os.environ, **client_env(info), "BENCH_TYPE": executortype}
    env.pop("PYTHONPATH", None)
    loops = [subprocess.Popen([str(python), "-c", PEER_EXECUTOR], env={**env, "BENCH_NAME": f"{executortype}-{i}"},
                              stdout=subprocess.PIPE, text=True, cwd="/") for i in range(executors)]
    try:
        for loop in loops:
            assert loop.stdout.readline().strip() == "ready"
        return asyncio.run(submit_and_drain(info, executortype, count))
    finally:
        for loop in loops:
            loop.send_signal(signal.SIGKILL)
            loop.wait()


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
    return {"polynb sign": sign_rate, "pycolonies sign": json.loads(done.stdout), "polynb recover": recover_rate}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=100, help="processes per round-trip run (at most 100)")
    parser.add_argument("--signatures", type=int, default=2000)
    args = parser.parse_args()
    python = peer_python("colonies", ["pycolonies==1.0.25"])
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        server, info = start_server(workdir / "server.sqlite")
        try:
            rows = []
            for executors in (1, 4):
                ours = polynb_round_trips(info, executors, args.processes, workdir)
                theirs = pycolonies_round_trips(info, executors, args.processes, python)
                rows.append((f"round trips/s, {executors} executor{'s' if executors > 1 else ''}", ours, theirs))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(10)
    rates = signatures(python, args.signatures)
    rows.append(("sign/s", rates["polynb sign"], rates["pycolonies sign"]))
    rows.append(("recover/s", rates["polynb recover"], None))
    print(f"{'measure':<28}{'polynb':>12}{'pycolonies':>12}{'ratio':>8}")
    for name, ours, theirs in rows:
        ratio = f"{ours / theirs:.2f}x" if theirs else "n/a"
        print(f"{name:<28}{ours:>12.1f}{(f'{theirs:.1f}' if theirs else 'n/a'):>12}{ratio:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
