"""Starting a platform's local stand-in for a binding that has no address configured.

The stand-in runs as ``polynb up PLATFORM --json`` in a child process, exactly as a user would start
it, so a kernel and a terminal get the same stand-in; the binding reads the one JSON line it prints.
It runs in a session of its own (a Ctrl-C meant for the kernel or ``polynb serve`` must not reach it:
they stop it themselves, after draining) and is told its parent's pid, so that a kernel killed without
cleanup (nbval, ``kill -9``) leaves no stand-in behind.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from . import progress
from .children import terminate

PARENT_ENV = "POLYNB_STANDIN_PARENT"


class LocalStandIn:
    """A running ``polynb up`` child process and what it reported."""

    def __init__(self, platform: str, process: asyncio.subprocess.Process, info: Mapping[str, Any]) -> None:
        self.platform = platform
        self.process = process
        self.info = info

    async def stop(self, timeout: float = 10.0) -> None:
        await terminate(self.process, timeout)


async def start_local(platform: str, timeout: float = 120.0, env: Mapping[str, str] | None = None) -> LocalStandIn:
    """Start the platform's stand-in and wait for its JSON line (progress is reported meanwhile)."""
    progress.report(f"starting the local {platform} stand-in")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "polynb", "up", platform, "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {}), PARENT_ENV: str(os.getpid())},
        start_new_session=True,
    )
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None and stderr is not None, "both are pipes"
    stderr_lines: list[str] = []
    stderr_task = asyncio.ensure_future(_follow_stderr(stderr, stderr_lines))
    try:
        line = await asyncio.wait_for(stdout.readline(), timeout)
    except asyncio.TimeoutError:
        await terminate(process, 0)
        raise RuntimeError(f"the local {platform} stand-in did not start within {timeout:.0f} s") from None
    if not line:
        await process.wait()
        await stderr_task
        raise RuntimeError(f"the local {platform} stand-in exited ({process.returncode}): "
                           + (" ".join(stderr_lines[-5:]) or "no output"))
    info = json.loads(line)[platform]
    return LocalStandIn(platform, process, info)


async def _follow_stderr(stderr: asyncio.StreamReader, lines: list[str]) -> None:
    """Keep the child's progress lines flowing to whoever waits, and drain the pipe."""
    while True:
        raw = await stderr.readline()
        if not raw:
            return
        text = raw.decode(errors="replace").rstrip()
        lines.append(text)
        progress.report(text)


async def stop_when_orphaned(stop: asyncio.Event, interval: float = 1.0) -> None:
    """In ``polynb up``: set ``stop`` once the process named by POLYNB_STANDIN_PARENT is no longer our parent."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    while os.getppid() == int(parent):
        await asyncio.sleep(interval)
    stop.set()
    try:  # the parent read our stderr: with it gone, the pipe may be broken
        print(f"polynb up: the process {parent} that started it is gone; stopping", file=sys.stderr, flush=True)
    except OSError:
        pass
