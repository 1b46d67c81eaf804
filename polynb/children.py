"""Ending a child process politely, then firmly: one rule for every child polynb starts."""
from __future__ import annotations

import asyncio
import signal


async def terminate(process: asyncio.subprocess.Process, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` (SIGTERM), give the child ``timeout`` seconds to exit (a stand-in drains, nats-server
    flushes its store), then kill it; return once it is reaped. A child that is gone already is fine."""
    if process.returncode is not None:
        return
    try:
        process.send_signal(sig)
        await asyncio.wait_for(process.wait(), timeout)
    except ProcessLookupError:
        await process.wait()
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
