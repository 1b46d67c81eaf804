"""A real kai-runner 2.0.4 task node downstream of a polynb node (run with the Python of .peers/aio).

Its handler prints, for every message it gets, one line ``SEEN {json}`` with whether the SDK calls it an error
and the error text, so a test reads what the real SDK made of polynb's message. MinIO and Keycloak clients are
inert stand-ins, as in kai_peer_node.py.
"""
import asyncio
import json

import sdk.kai_sdk as kai_sdk


class _Unused:
    def __init__(self, *args, **kwargs) -> None:
        pass


kai_sdk.PersistentStorage = _Unused
kai_sdk.ModelRegistry = _Unused

from runner.runner import Runner  # noqa: E402  (after the stubs, which it picks up through sdk.kai_sdk)


async def handler(sdk, payload):
    seen = {"error": sdk.messaging.is_message_error(), "text": sdk.messaging.get_error_message(),
            "request_id": sdk.get_request_id(), "from_node": sdk.request_msg.from_node}
    print("SEEN " + json.dumps(seen), flush=True)


async def main() -> None:
    runner = await Runner().initialize()
    await runner.task_runner().with_handler(handler).run()
    print("PEER-READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
