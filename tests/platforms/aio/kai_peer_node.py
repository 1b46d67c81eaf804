"""A real kai-runner 2.0.4 task node (run with the Python of .peers/aio, never polynb's).

Its handler is the conformance handler of test_aio_conformance.py. The SDK connects to MinIO and Keycloak while
it is constructed and exits when it cannot; those two clients are replaced by inert stand-ins here, since no
test uses persistent storage or the model registry. Configuration comes from KAI_APP_CONFIG_PATH (app.yaml).
"""
import asyncio

import sdk.kai_sdk as kai_sdk
from google.protobuf import wrappers_pb2


class _Unused:
    def __init__(self, *args, **kwargs) -> None:
        pass


kai_sdk.PersistentStorage = _Unused
kai_sdk.ModelRegistry = _Unused

from runner.runner import Runner  # noqa: E402  (after the stubs, which it picks up through sdk.kai_sdk)


async def handler(sdk, payload):
    text = wrappers_pb2.StringValue()
    payload.Unpack(text)
    if text.value == "kaboom":
        raise ValueError("kaboom")
    value, found = await sdk.centralized_config.get_config("suffix")
    await sdk.messaging.send_output(wrappers_pb2.StringValue(value=f"hello|{value}|{text.value}"))
    await sdk.messaging.send_output(wrappers_pb2.StringValue(value="side"), "chan1")


async def main() -> None:
    runner = await Runner().initialize()
    await runner.task_runner().with_handler(handler).run()
    print("PEER-READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
