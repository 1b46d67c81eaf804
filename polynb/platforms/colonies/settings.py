"""Settings of the ColonyOS platform: the ``COLONIES_*`` variables as pycolonies reads them, plus polynb's own."""
from __future__ import annotations

from ...config import Field, TypedSection, flag


def exactly_true(text: str) -> bool:
    """pycolonies (and the Colonies server) turn a ``COLONIES_*`` switch on only for the exact text ``true``;
    a variable both read must mean the same to both, so polynb does not use its wider :func:`flag` for these."""
    return text == "true"


class ColoniesSettings(TypedSection):
    server_host = Field[str | None]("COLONIES_SERVER_HOST", None, help="Colonies server host; unset starts the local server")
    server_port = Field[int]("COLONIES_SERVER_PORT", 50080, cast=int, help="Colonies server port")
    server_tls = Field[bool]("COLONIES_SERVER_TLS", False, cast=exactly_true, help="'true' for https/wss")
    colony_name = Field[str]("COLONIES_COLONY_NAME", "dev", help="the colony polynb works in")
    colony_prvkey = Field[str | None]("COLONIES_COLONY_PRVKEY", None, secret=True,
                                      help="colony owner's key: lets polynb approve its own executors")
    prvkey = Field[str | None]("COLONIES_PRVKEY", None, secret=True,
                               help="executor key (default: generated and kept in the journal folder)")
    executor_name = Field[str | None]("COLONIES_EXECUTOR_NAME", None,
                                      help="executor name (default: the kernel's own, NOTEBOOK-KERNELID-TYPE)")
    executor_type = Field[str]("COLONIES_EXECUTOR_TYPE", "polynb", help="default executor type")
    assign_timeout = Field[int]("POLYNB_COLONIES_ASSIGN_TIMEOUT", 10, cast=int, help="seconds one long-poll assign waits")
    http_timeout = Field[float]("POLYNB_COLONIES_HTTP_TIMEOUT", 30.0, cast=float, help="seconds any other request waits")
    retries = Field[int]("POLYNB_COLONIES_RETRIES", 3, cast=int, help="retries when the server cannot be reached")
    remove_executor = Field[bool]("POLYNB_COLONIES_REMOVE_EXECUTOR", False, cast=flag,
                                  help="'true' also removes named executors when the kernel stops (a kernel's own "
                                       "always leave)")
    local_port = Field[int]("POLYNB_COLONIES_LOCAL_PORT", 50080, cast=int, help="port of `polynb up colonies` (0: any)")
    local_state = Field[str | None]("POLYNB_COLONIES_LOCAL_STATE", None, help="SQLite file of the local server")
    dev_keys = Field[bool]("POLYNB_COLONIES_DEV_KEYS", False, cast=flag,
                           help="'true' makes the local server use the public development keys")
    allow_reregister = Field[bool]("COLONIES_ALLOW_EXECUTOR_REREGISTER", False, cast=exactly_true,
                                   help="local server: a new executor may take an existing name")
