"""Ending a child: SIGTERM first, SIGKILL for one that will not go, nothing for one already gone."""
from __future__ import annotations

import asyncio
import signal
import sys

from polynb.children import terminate

STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
POLITE = "import time; print('ready', flush=True); time.sleep(60)"


async def ended(code: str, timeout: float) -> int:
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE)
    await process.stdout.readline()
    await terminate(process, timeout)
    return process.returncode


def test_a_child_ends_on_sigterm():
    assert asyncio.run(ended(POLITE, 30)) == -signal.SIGTERM


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout():
    assert asyncio.run(ended(STUBBORN, 0.5)) == -signal.SIGKILL


def test_a_child_that_is_gone_already_is_left_alone():
    async def main() -> int:
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
        await process.wait()
        await terminate(process)
        return process.returncode

    assert asyncio.run(main()) == 0
