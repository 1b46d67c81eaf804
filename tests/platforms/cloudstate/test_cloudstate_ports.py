"""Where the user function listens: its own variables, the generic ``PORT`` shared with KGrid, and taken ports."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from cloudstate_servers import environment
from support import free_port, taken_port

from polynb.generic_env import GenericVariables
from polynb.platforms import cloudstate, kgrid
from polynb.platforms.cloudstate.binding import CloudStateBinding
from polynb.platforms.kgrid.binding import KgridBinding
from polynb.ports import PortInUse
from polynb.service import Service

VARIABLES = ("POLYNB_CLOUDSTATE_PORT", "PORT", "CLOUDSTATE_PROXY", "POLYNB_KGRID_PORT", "KGRID_PYTHON_ENV_PORT",
             "KGRID_PYTHON_ENV_URL", "KGRID_PROXY_ADAPTER_URL", "HOST", "POLYNB_CLOUDSTATE_HOST")


@pytest.fixture(autouse=True)
def clean(monkeypatch, journal_dir):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KGRID_PROXY_HEARTBEAT_INTERVAL", "0")


def port_of(binding_class, platform, **environ: str) -> int:
    """The port a binding would listen on, in a service of its own that has handed out no variable yet."""
    service = SimpleNamespace(generic_variables=GenericVariables())
    binding = binding_class(service, platform.PLATFORM.settings.read(platform.PLATFORM.name, environ=environ))
    return binding.listen_port()


@pytest.mark.parametrize("environ,port", [
    ({}, 0),                                                    # a free port: the local proxy is told which
    ({"CLOUDSTATE_PROXY": "proxy:9000"}, 8080),                 # where a real proxy's USER_FUNCTION_PORT looks
    ({"PORT": "7001"}, 7001),                                   # the official library's variable
    ({"PORT": "7001", "POLYNB_CLOUDSTATE_PORT": "7002"}, 7002),  # polynb's own wins
])
def test_the_user_functions_port_comes_from_its_own_variables_first(environ, port):
    assert port_of(CloudStateBinding, cloudstate, **environ) == port


@pytest.mark.parametrize("environ,port", [
    ({}, 0),
    ({"KGRID_PYTHON_ENV_URL": "http://runtime:5000"}, 5000),        # the real runtime's default
    ({"KGRID_PYTHON_ENV_PORT": "7003"}, 7003),
    ({"KGRID_PYTHON_ENV_PORT": "7003", "PORT": "7001"}, 7001),      # PORT overrides, as in the real runtime
    ({"PORT": "7001", "POLYNB_KGRID_PORT": "7002"}, 7002),
])
def test_the_kgrid_runtimes_port_keeps_the_real_runtimes_meaning(environ, port):
    assert port_of(KgridBinding, kgrid, **environ) == port


@pytest.mark.servers
def test_port_goes_to_the_platform_that_starts_first_and_the_other_says_who_has_it(capfd):
    port = free_port()
    with environment(PORT=str(port)):
        service = Service(notebook_ns={})
    try:
        service.call(service.binding("kgrid"))
        service.call(service.binding("cloudstate"))
        statuses = service.statuses()
        assert statuses["kgrid"].address == f"http://127.0.0.1:{port}"
        assert statuses["cloudstate"].address != f"127.0.0.1:{port}"
        assert (f"polynb: PORT={port} is kgrid's (it started first); cloudstate does not use it: "
                "set POLYNB_CLOUDSTATE_PORT to choose cloudstate's own") in capfd.readouterr().err
    finally:
        service.stop()


@pytest.mark.servers
def test_a_taken_port_is_one_line_naming_the_variable_that_moves_it_and_port_is_given_back():
    with taken_port() as port:
        with environment(PORT=str(port), CLOUDSTATE_PROXY="127.0.0.1:9"):
            service = Service(notebook_ns={})
        try:
            with pytest.raises(PortInUse) as refused:
                service.call(service.binding("cloudstate"))
            assert service.generic_variables.holder("PORT") is None  # the failed start gave it back
        finally:
            service.stop()
    assert str(refused.value) == (f"cloudstate: port {port} is already in use; "
                                  "set POLYNB_CLOUDSTATE_PORT to another port (0: a free one)")


@pytest.mark.servers
def test_an_interactive_user_function_reports_ready_once_started():
    """Interactively discovery is open at once: the state the widgets read says ready, not starting."""
    with environment(CLOUDSTATE_PROXY="127.0.0.1:9"):  # a proxy elsewhere: no local one to start
        service = Service(notebook_ns={})
    try:
        service.call(service.binding("cloudstate"))
        assert service.statuses()["cloudstate"].state == "ready"
        [row] = [p for p in service.journal.platforms() if p.platform == "cloudstate"]
        assert row.state == "ready"
    finally:
        service.stop()
