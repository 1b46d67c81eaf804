"""A real kai-runner 2.0.4 task node downstream of a polynb node.

Its handler prints, for every message it gets, one line ``SEEN {json}`` with whether the SDK calls it an error
and the error text, so a test reads what the real SDK made of polynb's message.
"""
import json

from kai_peer_runtime import serve


async def handler(sdk, payload):
    seen = {"error": sdk.messaging.is_message_error(), "text": sdk.messaging.get_error_message(),
            "request_id": sdk.get_request_id(), "from_node": sdk.request_msg.from_node}
    print("SEEN " + json.dumps(seen), flush=True)


if __name__ == "__main__":
    serve(handler)
