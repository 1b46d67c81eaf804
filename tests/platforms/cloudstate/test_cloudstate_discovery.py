"""Discovery with a real proxy configured: it discovers once, so a later change is announced, not lost silently."""
from __future__ import annotations

import cloudstate_cells
import grpc
from cloudstate_servers import register, start_service

from polynb.platforms.cloudstate.protos.gen.cloudstate import entity_pb2_grpc
from polynb.platforms.cloudstate.proxy import PROXY_INFO


def test_an_entity_changed_after_the_proxy_discovered_says_to_restart_the_proxy(tmp_path, cart_namespace, capfd):
    service = start_service(tmp_path / ".polynb", cart_namespace, CLOUDSTATE_PROXY="127.0.0.1:9")
    try:
        options = {"kind": "event_sourced", "protos": cloudstate_cells.CART_PROTOS}
        register(service, cart_namespace, cloudstate_cells.CART_SERVICE, cloudstate_cells.SHOPPING_CART, options)
        with grpc.insecure_channel(service.call(service.binding("cloudstate")).address) as channel:
            spec = entity_pb2_grpc.EntityDiscoveryStub(channel).discover(PROXY_INFO, timeout=30)
        assert [e.service_name for e in spec.entities] == [cloudstate_cells.CART_SERVICE]
        assert "restart the proxy" not in capfd.readouterr().err
        register(service, cart_namespace, cloudstate_cells.CART_SERVICE, cloudstate_cells.SHOPPING_CART,
                 {**options, "snapshot_every": 2})
        assert ("polynb: the CloudState proxy at 127.0.0.1:9 discovered this user function before this change; "
                "restart the proxy so that it discovers again") in capfd.readouterr().err
    finally:
        service.stop()
