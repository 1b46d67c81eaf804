"""``/pubsub`` follows the RPC API's rules: only a member of a process's colony watches it (403 in the Go shape)."""
from __future__ import annotations

import asyncio
import json

import pytest
import tornado.websocket
from colonies_harness import enroll, run

from polynb.platforms.colonies import crypto, wire

NOT_A_MEMBER = "Access denied, not a member of Colony with name <{}>"


async def subscribe(server, message: dict, key: str) -> list:
    """Every frame the socket gets within a second (or until the server answers an error), decoded."""
    socket = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{server.info['port']}/pubsub")
    await socket.write_message(json.dumps(wire.encode_request(message, key)))
    frames = []
    try:
        while (frame := await asyncio.wait_for(socket.read_message(), 1)) is not None:
            try:
                frames.append(wire.decode_reply(frame)[1])
            except wire.ColoniesError as error:
                frames.append(error)
                break
    except asyncio.TimeoutError:
        pass
    socket.close()
    return frames


async def waiting_process(server, executortype: str) -> dict:
    client = server.client()
    key = await enroll(client, server, f"submitter-{executortype}", executortype=executortype)
    process = await client.submit(wire.function_spec("secret", colonyname=server.colony, executortype=executortype,
                                                     args=["the-password"]), key)
    await client.close()
    return process


def process_message(server, process: dict, colony: str | None = None) -> dict:
    return {"msgtype": "subscribeprocessmsg", "colonyname": colony or server.colony,
            "processid": process["processid"], "executortype": process["spec"]["conditions"]["executortype"],
            "state": wire.WAITING, "timeout": 5}


def assert_forbidden(frames: list, colony: str) -> None:
    assert len(frames) == 1 and isinstance(frames[0], wire.Forbidden), frames
    assert (frames[0].status, frames[0].message) == (403, NOT_A_MEMBER.format(colony))


def test_a_key_of_no_member_cannot_subscribe_to_a_process(server):
    async def scenario():
        process = await waiting_process(server, "auth-one")
        return await subscribe(server, process_message(server, process), crypto.generate_private_key())

    assert_forbidden(run(scenario()), server.colony)


def test_a_key_of_no_member_cannot_subscribe_to_a_colonys_processes(server):
    async def scenario():
        message = {"msgtype": "subscribeprocessesmsg", "colonyname": server.colony, "executortype": "auth-all",
                   "state": wire.WAITING, "timeout": 5}
        frames = asyncio.ensure_future(subscribe(server, message, crypto.generate_private_key()))
        await asyncio.sleep(0.2)
        await waiting_process(server, "auth-all")
        return await frames

    assert_forbidden(run(scenario()), server.colony)


def test_the_colony_owner_key_alone_is_no_member_here_either(server):
    async def scenario():
        process = await waiting_process(server, "auth-owner")
        return await subscribe(server, process_message(server, process), server.colony_key)

    assert_forbidden(run(scenario()), server.colony)


def test_an_unapproved_executor_cannot_subscribe(server):
    async def scenario():
        process = await waiting_process(server, "auth-pending")
        client = server.client()
        pending = await enroll(client, server, "pending-watcher", executortype="auth-pending", approve=False)
        await client.close()
        return await subscribe(server, process_message(server, process), pending)

    assert_forbidden(run(scenario()), server.colony)


def test_a_member_of_another_colony_cannot_watch_this_colonys_process_by_naming_its_own(server):
    async def scenario():
        client = server.client()
        other_owner = crypto.generate_private_key()
        await client.add_colony(crypto.identity(other_owner), "other-colony", server.info["server_prvkey"])
        outsider = crypto.generate_private_key()
        await client.add_executor(outsider, "outsider", "auth-other", "other-colony", other_owner)
        await client.approve_executor("other-colony", "outsider", other_owner)
        await client.close()
        process = await waiting_process(server, "auth-other")
        return await subscribe(server, process_message(server, process, colony="other-colony"), outsider)

    assert_forbidden(run(scenario()), server.colony)


@pytest.mark.parametrize("msgtype", ["subscribeprocessmsg", "subscribeprocessesmsg"])
def test_a_member_still_gets_the_process(server, msgtype):
    async def scenario():
        client = server.client()
        member = await enroll(client, server, f"member-{msgtype}", executortype=f"auth-{msgtype}")
        await client.close()
        if msgtype == "subscribeprocessmsg":
            process = await waiting_process(server, f"auth-{msgtype}")
            return await subscribe(server, process_message(server, process), member)
        message = {"msgtype": msgtype, "colonyname": server.colony, "executortype": f"auth-{msgtype}",
                   "state": wire.WAITING, "timeout": 5}
        frames = asyncio.ensure_future(subscribe(server, message, member))
        await asyncio.sleep(0.2)
        await waiting_process(server, f"auth-{msgtype}")
        return await frames

    frames = run(scenario())
    assert len(frames) == 1 and frames[0]["spec"]["args"] == ["the-password"]
