"""A real kai-runner 2.0.4 task node whose handler is the conformance handler of test_aio_conformance.py."""
from google.protobuf import wrappers_pb2
from kai_peer_runtime import serve


async def handler(sdk, payload):
    text = wrappers_pb2.StringValue()
    payload.Unpack(text)
    if text.value == "kaboom":
        raise ValueError("kaboom")
    value, found = await sdk.centralized_config.get_config("suffix")
    await sdk.messaging.send_output(wrappers_pb2.StringValue(value=f"hello|{value}|{text.value}"))
    await sdk.messaging.send_output(wrappers_pb2.StringValue(value="side"), "chan1")


if __name__ == "__main__":
    serve(handler)
