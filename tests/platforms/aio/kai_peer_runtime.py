"""What the tests' real kai-runner 2.0.4 task nodes share (run with the Python of .peers/aio, never polynb's).

The SDK connects to MinIO and Keycloak while it is constructed and exits when it cannot; those two clients are
replaced by inert stand-ins here, since no test uses persistent storage or the model registry. Configuration
comes from KAI_APP_CONFIG_PATH (app.yaml). A node script imports this module (it sits beside them) and calls
:func:`serve` with its handler.
"""
import asyncio

import sdk.kai_sdk as kai_sdk


class _Unused:
    def __init__(self, *args, **kwargs) -> None:
        pass


kai_sdk.PersistentStorage = _Unused
kai_sdk.ModelRegistry = _Unused

from runner.runner import Runner  # noqa: E402  (after the stubs, which it picks up through sdk.kai_sdk)


def serve(handler) -> None:
    """Run a task node with ``handler``; ``PEER-READY`` on stdout once it consumes."""
    async def main() -> None:
        runner = await Runner().initialize()
        await runner.task_runner().with_handler(handler).run()
        print("PEER-READY", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
