"""The local Colonies server over HTTP and websocket: envelope, authorization, scheduling, workflows, restarts."""
from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
import tornado.websocket
from colonies_harness import enroll, run

from polynb.platforms.colonies import crypto, wire

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command

SPEC = dict(colonyname="dev", executortype="test")


def spec(funcname="echo", **options):
    return wire.function_spec(funcname, **{**SPEC, **options})


def post(server, body: bytes | str) -> tuple[int, dict]:
    response = httpx.post(f"{server.info['url']}/api", content=body, timeout=10)
    reply = response.json()
    return response.status_code, json.loads(base64.b64decode(reply["payload"])) if reply["payload"] else None


def test_health_answers_with_an_empty_200(server):
    response = httpx.get(f"{server.info['url']}/health")
    assert response.status_code == 200 and response.content == b""


def test_version_needs_no_signature(server):
    body = json.dumps(wire.encode_request({"msgtype": "versionmsg"}, None))
    status, reply = post(server, body)
    assert status == 200 and "buildversion" in reply


def test_json_output_holds_what_a_client_needs(server):
    info = server.info
    assert crypto.identity(info["colony_prvkey"]) == info["colony_id"]
    assert crypto.identity(info["server_prvkey"]) == info["server_id"]
    dev_ids = {"039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103",
               "4787a5071856a4acf702b2ffcea422e3237a679c681314113d86139461290cf4"}
    assert not {info["server_id"], info["colony_id"]} & dev_ids, "default keys must be fresh, not the public ones"


def test_all_zero_signature_is_refused_with_403(server):
    envelope = wire.encode_request({"msgtype": "getprocessmsg", "processid": "x"}, None)
    envelope["signature"] = "00" * 65
    assert post(server, json.dumps(envelope)) == (403, {"status": 403, "message": "Invalid signature"})


def test_high_s_signature_is_refused(server):
    key = crypto.generate_private_key()
    envelope = wire.encode_request({"msgtype": "getprocessmsg", "processid": "x"}, key)
    r, s, v = envelope["signature"][:64], int(envelope["signature"][64:128], 16), int(envelope["signature"][128:], 16)
    envelope["signature"] = f"{r}{crypto.N - s:064x}{v ^ 1:02x}"
    status, reply = post(server, json.dumps(envelope))
    assert status == 403 and "over half the order" in reply["message"]


def test_unknown_payload_type_is_refused_like_the_go_server(server):
    body = json.dumps(wire.encode_request({"msgtype": "addcronmsg"}, crypto.generate_private_key()))
    assert post(server, body) == (403, {"status": 403, "message": "invalid rpcMsg.PayloadType: addcronmsg"})


def test_malformed_envelope_and_mismatched_msgtype_are_bad_requests(server):
    assert post(server, b"{not json")[0] == 400
    envelope = wire.encode_request({"msgtype": "getprocessmsg", "processid": "x"}, crypto.generate_private_key())
    envelope["payloadtype"] = "getprocessesmsg"
    envelope["signature"] = crypto.sign(envelope["payload"], crypto.generate_private_key())
    status, reply = post(server, json.dumps(envelope))
    assert status == 400 and "does not match" in reply["message"]


def test_only_the_server_owner_adds_colonies(server):
    async def scenario():
        client = server.client()
        with pytest.raises(wire.Forbidden):
            await client.add_colony("a" * 64, "other", server.colony_key)
        added = await client.add_colony(crypto.identity(crypto.generate_private_key()), "second",
                                        server.info["server_prvkey"])
        with pytest.raises(wire.BadRequest, match="already exists"):
            await client.add_colony("b" * 64, "second", server.info["server_prvkey"])
        await client.close()
        return added

    assert run(scenario())["name"] == "second"


def test_executors_must_be_added_by_the_colony_owner_and_approved(server):
    async def scenario():
        client = server.client()
        key = crypto.generate_private_key()
        with pytest.raises(wire.Forbidden):
            await client.add_executor(key, "self-made", "test", server.colony, key)
        added = await client.add_executor(key, "pending-one", "test", server.colony, server.colony_key)
        with pytest.raises(wire.Forbidden, match=r"not a member of Colony with name <dev>"):
            await client.assign(server.colony, -1, key)
        with pytest.raises(wire.BadRequest, match="already exists"):
            await client.add_executor(crypto.generate_private_key(), "pending-one", "test", server.colony,
                                      server.colony_key)
        await client.approve_executor(server.colony, "pending-one", server.colony_key)
        with pytest.raises(wire.NoProcessAvailable):
            await client.assign(server.colony, -1, key)
        await client.close()
        return added

    added = run(scenario())
    assert added["state"] == wire.PENDING and added["executorid"] == added["executorid"].lower()


def test_colony_owner_alone_is_not_a_member(server):
    async def scenario():
        client = server.client()
        with pytest.raises(wire.Forbidden, match="not a member"):
            await client.submit(spec(), server.colony_key)
        await client.close()

    run(scenario())


def test_functions_are_added_only_by_their_executor(server):
    async def scenario():
        client = server.client()
        first = await enroll(client, server, "fn-owner")
        second = await enroll(client, server, "fn-other")
        with pytest.raises(wire.Forbidden, match="another executor"):
            await client.add_function(server.colony, "fn-owner", "echo", second)
        added = await client.add_function(server.colony, "fn-owner", "echo", first)
        listed = await client.get_functions(server.colony, second, "fn-owner")
        await client.close()
        return added, listed

    added, listed = run(scenario())
    assert added["funcname"] == "echo" and [f["functionid"] for f in listed] == [added["functionid"]]


def test_assign_timeouts_zero_negative_and_positive(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "idle", executortype="nobody-submits-this")
        with pytest.raises(wire.BadRequest, match="timeout cannot be zero"):
            await client.assign(server.colony, 0, key)
        with pytest.raises(wire.NoProcessAvailable):
            await client.assign(server.colony, -1, key)
        with pytest.raises(wire.NoProcessAvailable, match="No process available for assignment"):
            await client.assign(server.colony, 1, key)
        await client.close()

    run(scenario())


def test_a_long_poll_is_woken_by_a_submission(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "waker", executortype="wake")
        waiting = asyncio.ensure_future(client.assign(server.colony, 20, key))
        await asyncio.sleep(0.3)
        submitted = await client.submit(spec(executortype="wake"), key)
        assigned = await waiting
        await client.close()
        return submitted, assigned

    submitted, assigned = run(scenario())
    assert assigned["processid"] == submitted["processid"] and assigned["state"] == wire.RUNNING


def test_a_long_poll_whose_executor_hung_up_takes_nothing(server):
    """As the Go server binds the wait to the request's context: a killed executor's held assign does not
    take the next process (nobody would read it); a living executor of the type gets it."""
    async def scenario():
        client = server.client()
        dead = await enroll(client, server, "hung-up", executortype="hangup")
        living = await enroll(client, server, "still-here", executortype="hangup")
        heard = (await client.get_executor(server.colony, "hung-up", dead))["lastheardfromtime"]
        body = json.dumps(wire.encode_request({"msgtype": "assignprocessmsg", "timeout": 60,
                                               "colonyname": server.colony}, dead)).encode()
        _, writer = await asyncio.open_connection(server.info["host"], server.info["port"])
        writer.write(b"POST /api HTTP/1.1\r\nHost: colonies\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        for _ in range(600):  # until the server holds the poll (30 s at most)
            if (await client.get_executor(server.colony, "hung-up", dead))["lastheardfromtime"] != heard:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the server never held the executor's poll")
        writer.close()  # the executor's process dies: its socket closes
        await writer.wait_closed()
        await client.get_executors(server.colony, living)
        submitted = await client.submit(spec(executortype="hangup"), living)
        assigned = await client.assign(server.colony, 10, living)
        await client.close()
        return submitted, assigned, crypto.identity(living)

    submitted, assigned, living_id = run(scenario())
    assert assigned["processid"] == submitted["processid"] and assigned["assignedexecutorid"] == living_id


def test_full_process_lifecycle_with_logs_attributes_and_output(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "life", executortype="life")
        submitted = await client.submit(spec(executortype="life", args=["hello", 42]), key)
        assigned = await client.assign(server.colony, 5, key)
        await client.add_log(assigned["processid"], "log line 1\n", key)
        attribute = await client.add_attribute(assigned["processid"], "k", "v", key)
        with pytest.raises(wire.BadRequest):
            await client.add_attribute(assigned["processid"], "k", "v", key)
        await client.set_output(assigned["processid"], ["partial"], key)
        running = await client.get_processes(server.colony, wire.RUNNING, key)
        await client.close_process(assigned["processid"], [], key)
        closed = await client.get_process(assigned["processid"], key)
        logs = await client.get_logs(server.colony, assigned["processid"], key)
        await client.close()
        return submitted, attribute, running, closed, logs

    submitted, attribute, running, closed, logs = run(scenario())
    assert submitted["state"] == wire.WAITING and submitted["starttime"] == wire.ZERO_TIME
    assert submitted["in"] == [] and submitted["out"] == [] and submitted["errors"] == [] and submitted["parents"] == []
    assert attribute["attributeid"] == crypto.sha3_hex(f"{submitted['processid']}k1")
    assert submitted["processid"] in [p["processid"] for p in running]
    assert closed["state"] == wire.SUCCESS and closed["out"] == ["partial"], "an empty close keeps set_output"
    assert closed["attributes"][-1]["key"] == "k"
    assert [(log["message"], log["executorname"]) for log in logs] == [("log line 1\n", "life")]


def test_only_the_assigned_executor_closes_and_logs(server):
    async def scenario():
        client = server.client()
        owner = await enroll(client, server, "assigned", executortype="guarded")
        other = await enroll(client, server, "bystander", executortype="guarded-other")
        await client.submit(spec(executortype="guarded"), owner)
        process = await client.assign(server.colony, 5, owner)
        for call in (client.close_process(process["processid"], ["x"], other),
                     client.fail_process(process["processid"], ["x"], other),
                     client.add_log(process["processid"], "x", other)):
            with pytest.raises(wire.Forbidden):
                await call
        await client.fail_process(process["processid"], ["boom"], owner)
        with pytest.raises(wire.Forbidden, match="not running"):
            await client.add_log(process["processid"], "late", owner)
        with pytest.raises(wire.BadRequest):
            await client.close_process(process["processid"], ["x"], owner)
        failed = await client.get_process(process["processid"], owner)
        await client.close()
        return failed

    failed = run(scenario())
    assert failed["state"] == wire.FAILED and failed["errors"] == ["boom"]


def test_empty_lists_are_null_at_top_level(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "lister", executortype="lister")
        raw = await client.rpc({"msgtype": "getprocessesmsg", "colonyname": server.colony, "count": 10,
                                "state": wire.CANCELLED}, key)
        with pytest.raises(wire.BadRequest, match="invalid msg.State"):
            await client.rpc({"msgtype": "getprocessesmsg", "colonyname": server.colony, "count": 10, "state": 9}, key)
        with pytest.raises(wire.Forbidden, match="max log count"):
            await client.rpc({"msgtype": "getlogsmsg", "colonyname": server.colony, "processid": "", "executorname": "lister",
                              "count": 501, "since": 0}, key)
        await client.close()
        return raw

    assert run(scenario()) is None


def test_maxexectime_unassigns_then_fails_after_the_retries(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "slow", executortype="slow")
        await client.submit(spec(executortype="slow", maxexectime=1, maxretries=1), key)
        first = await client.assign(server.colony, 5, key)
        second = await client.assign(server.colony, 10, key)  # handed out again once the deadline passed
        with pytest.raises(wire.Forbidden):
            await client.close_process(first["processid"], ["stale"], crypto.generate_private_key())
        final = None
        for _ in range(50):
            final = await client.get_process(first["processid"], key)
            if final["state"] == wire.FAILED:
                break
            await asyncio.sleep(0.2)
        await client.close()
        return first, second, final

    first, second, final = run(scenario())
    assert second["processid"] == first["processid"] and second["retries"] == 1
    assert final["state"] == wire.FAILED and final["errors"] == [wire.EXEC_LIMIT]


def test_stale_close_after_unassign_is_forbidden(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "stale", executortype="stale")
        await client.submit(spec(executortype="stale", maxexectime=1, maxretries=3), key)
        process = await client.assign(server.colony, 5, key)
        for _ in range(50):
            if (await client.get_process(process["processid"], key))["state"] == wire.WAITING:
                break
            await asyncio.sleep(0.2)
        with pytest.raises(wire.Forbidden, match="not assigned"):
            await client.close_process(process["processid"], ["late"], key)
        await client.close()

    run(scenario())


def test_maxwaittime_fails_a_process_nobody_takes(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "submitter-w", executortype="w")
        process = await client.submit(spec(executortype="nobody", maxwaittime=1), key)
        for _ in range(50):
            current = await client.get_process(process["processid"], key)
            if current["state"] == wire.FAILED:
                break
            await asyncio.sleep(0.2)
        await client.close()
        return current

    assert run(scenario())["errors"] == [wire.WAIT_LIMIT]


def diamond(executortype: str) -> list[dict]:
    return [spec(name.lower(), executortype=executortype, nodename=name, dependencies=deps)
            for name, deps in (("A", []), ("B", ["A"]), ("C", ["A"]), ("D", ["B", "C"]))]


def test_diamond_workflow_feeds_parents_outputs_to_children(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "wf", executortype="wf")
        graph = await client.submit_workflow(server.colony, diamond("wf"), key)
        order, inputs = [], {}
        for _ in range(4):
            process = await client.assign(server.colony, 5, key)
            name = process["spec"]["nodename"]
            order.append(name)
            inputs[name] = process["in"]
            await client.close_process(process["processid"], [name], key)
        final = await client.get_processgraph(graph["processgraphid"], key)
        await client.close()
        return graph, order, inputs, final

    graph, order, inputs, final = run(scenario())
    assert graph["nodes"] == [] and graph["edges"] == [] and graph["starttime"] == wire.ZERO_TIME
    assert len(graph["rootprocessids"]) == 1 and len(graph["processids"]) == 4
    assert order[0] == "A" and order[-1] == "D" and set(order[1:3]) == {"B", "C"}
    assert inputs == {"A": [], "B": ["A"], "C": ["A"], "D": ["B", "C"]}
    assert final["state"] == wire.SUCCESS and len(final["edges"]) == 4


def test_a_failed_parent_fails_the_whole_graph(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "wf-fail", executortype="wf-fail")
        graph = await client.submit_workflow(server.colony, diamond("wf-fail"), key)
        root = await client.assign(server.colony, 5, key)
        await client.fail_process(root["processid"], ["root broke"], key)
        with pytest.raises(wire.NoProcessAvailable):
            await client.assign(server.colony, -1, key)
        states = [(await client.get_process(pid, key))["state"] for pid in graph["processids"]]
        final = await client.get_processgraph(graph["processgraphid"], key)
        await client.close()
        return states, final

    states, final = run(scenario())
    assert states == [wire.FAILED] * 4 and final["state"] == wire.FAILED


@pytest.mark.parametrize("specs, message", [
    ([{"funcname": "x", "conditions": {"executortype": "t"}}], "Nodename is missing"),
    ([spec(nodename="a"), spec(nodename="a")], "Duplicate nodename: a"),
    ([spec(nodename="a", dependencies=["ghost"])], "invalid dependencies"),
])
def test_invalid_workflows_are_refused_with_the_go_messages(server, specs, message):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, f"wf-bad-{len(message)}", executortype="wf-bad")
        try:
            with pytest.raises(wire.ColoniesError, match=message) as caught:
                await client.submit_workflow(server.colony, specs, key)
            return caught.value.status
        finally:
            await client.close()

    assert run(scenario()) == 500


def test_pubsub_pushes_now_and_on_transition_then_drops_at_timeout(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "subscriber", executortype="sub")
        process = await client.submit(spec(executortype="sub"), key)
        already_waiting = await client.subscribe_process(process, wire.WAITING, 5, key)
        success = asyncio.ensure_future(client.subscribe_process(process, wire.SUCCESS, 10, key))
        await asyncio.sleep(0.3)
        assigned = await client.assign(server.colony, 5, key)
        await client.close_process(assigned["processid"], ["done"], key)
        pushed = await success
        socket = await tornado.websocket.websocket_connect(client.pubsub_url)
        message = {"msgtype": "subscribeprocessmsg", "colonyname": server.colony, "processid": process["processid"],
                   "executortype": "sub", "state": wire.FAILED, "timeout": 1}
        await socket.write_message(json.dumps(wire.encode_request(message, key)))
        dropped = await asyncio.wait_for(socket.read_message(), 10)
        await client.close()
        return already_waiting, pushed, dropped

    already_waiting, pushed, dropped = run(scenario())
    assert already_waiting["state"] == wire.WAITING
    assert pushed["state"] == wire.SUCCESS and pushed["out"] == ["done"]
    assert dropped is None, "the server drops the connection at timeout"


def _bad_signature_frame() -> str:
    envelope = wire.encode_request({"msgtype": "subscribeprocessmsg", "processid": "x", "state": 2, "timeout": 1}, None)
    envelope["signature"] = "00" * 65
    return json.dumps(envelope)


@pytest.mark.parametrize("frame, error", [
    (_bad_signature_frame(), wire.Forbidden), ("{not json", wire.BadRequest),
    (json.dumps(wire.encode_request({"msgtype": "subscribeprocessmsg", "processid": "ghost", "state": 2,
                                     "timeout": 1}, crypto.generate_private_key())), wire.NotFound),
])
def test_pubsub_answers_bad_frames_with_an_error_envelope(server, frame, error):
    async def scenario():
        socket = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{server.info['port']}/pubsub")
        await socket.write_message(frame)
        reply = await asyncio.wait_for(socket.read_message(), 10)
        socket.close()
        return reply

    with pytest.raises(error):
        wire.decode_reply(run(scenario()))


def test_restart_keeps_processes_logs_graphs_and_keys(server):
    async def before():
        client = server.client()
        key = await enroll(client, server, "durable", executortype="durable")
        graph = await client.submit_workflow(server.colony, diamond("durable"), key)
        root = await client.assign(server.colony, 5, key)
        await client.add_log(root["processid"], "before restart\n", key)
        await client.close_process(root["processid"], ["A"], key)
        await client.close()
        return key, graph

    async def after(key, graph):
        client = server.client()
        logs = await client.get_logs(server.colony, graph["rootprocessids"][0], key)
        names = []
        for _ in range(3):
            process = await client.assign(server.colony, 5, key)
            names.append(process["spec"]["nodename"])
            await client.close_process(process["processid"], [process["spec"]["nodename"]], key)
        final = await client.get_processgraph(graph["processgraphid"], key)
        await client.close()
        return logs, names, final

    key, graph = run(before())
    colony_id = server.info["colony_id"]
    server.restart()
    assert server.info["colony_id"] == colony_id
    logs, names, final = run(after(key, graph))
    assert [log["message"] for log in logs] == ["before restart\n"]
    assert sorted(names) == ["B", "C", "D"] and final["state"] == wire.SUCCESS


def test_public_development_keys_only_when_asked_for(tmp_path):
    from colonies_harness import LocalServer

    local = LocalServer(tmp_path / "dev.sqlite", env={"POLYNB_COLONIES_DEV_KEYS": "true"})
    info = local.start()
    local.stop()
    assert info["server_id"] == "039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103"
    assert info["colony_id"] == "4787a5071856a4acf702b2ffcea422e3237a679c681314113d86139461290cf4"


def test_process_lists_filter_by_executor_type_in_priority_order(server):
    async def scenario():
        client = server.client()
        key = await enroll(client, server, "filterer", executortype="filtered")
        low = await client.submit(spec(executortype="filtered", priority=0), key)
        high = await client.submit(spec(executortype="filtered", priority=5), key)
        await client.submit(spec(executortype="unrelated"), key)
        listed = await client.rpc({"msgtype": "getprocessesmsg", "colonyname": server.colony, "count": 10,
                                   "state": wire.WAITING, "executortype": "filtered"}, key)
        first = await client.assign(server.colony, 5, key)
        await client.close()
        return low, high, listed, first

    low, high, listed, first = run(scenario())
    assert [p["processid"] for p in listed] == [high["processid"], low["processid"]]
    assert first["processid"] == high["processid"], "a higher priority is handed out first"


def test_the_servers_state_which_holds_private_keys_is_the_owners_alone(tmp_path):
    from polynb.platforms.colonies.store import Store

    store = Store(tmp_path / "state" / "colonies-server.sqlite")
    store.save("colony", "dev", {"name": "dev"})
    files = sorted(tmp_path.joinpath("state").iterdir())
    assert files and all(oct(f.stat().st_mode & 0o777) == oct(0o600) for f in files), files
