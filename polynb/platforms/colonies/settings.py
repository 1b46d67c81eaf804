"""Settings of the ColonyOS platform: the ``COLONIES_*`` variables as pycolonies reads them, plus polynb's own."""
from __future__ import annotations

from ...config import Setting


def _flag(text: str) -> bool:
    """pycolonies turns TLS on only for the exact text ``true``; polynb's flags read the same way."""
    return text == "true"


SETTINGS = (
    Setting("server_host", "COLONIES_SERVER_HOST", None,
            help="Colonies server host; unset starts the local server"),
    Setting("server_port", "COLONIES_SERVER_PORT", 50080, cast=int, help="Colonies server port"),
    Setting("server_tls", "COLONIES_SERVER_TLS", False, cast=_flag, help="'true' for https/wss"),
    Setting("colony_name", "COLONIES_COLONY_NAME", "dev", help="the colony polynb works in"),
    Setting("colony_prvkey", "COLONIES_COLONY_PRVKEY", None, secret=True,
            help="colony owner's key: lets polynb approve its own executors"),
    Setting("prvkey", "COLONIES_PRVKEY", None, secret=True,
            help="executor key (default: generated and kept in the journal folder)"),
    Setting("executor_name", "COLONIES_EXECUTOR_NAME", None,
            help="executor name (default: the kernel's own, NOTEBOOK-KERNELID-TYPE)"),
    Setting("executor_type", "COLONIES_EXECUTOR_TYPE", "polynb", help="default executor type"),
    Setting("assign_timeout", "POLYNB_COLONIES_ASSIGN_TIMEOUT", 10, cast=int, help="seconds one long-poll assign waits"),
    Setting("http_timeout", "POLYNB_COLONIES_HTTP_TIMEOUT", 30.0, cast=float, help="seconds any other request waits"),
    Setting("retries", "POLYNB_COLONIES_RETRIES", 3, cast=int, help="retries when the server cannot be reached"),
    Setting("remove_executor", "POLYNB_COLONIES_REMOVE_EXECUTOR", False, cast=_flag,
            help="'true' also removes named executors when the kernel stops (a kernel's own always leave)"),
    Setting("local_port", "POLYNB_COLONIES_LOCAL_PORT", 50080, cast=int, help="port of `polynb up colonies` (0: any)"),
    Setting("local_state", "POLYNB_COLONIES_LOCAL_STATE", None, help="SQLite file of the local server"),
    Setting("dev_keys", "POLYNB_COLONIES_DEV_KEYS", False, cast=_flag,
            help="'true' makes the local server use the public development keys"),
    Setting("allow_reregister", "COLONIES_ALLOW_EXECUTOR_REREGISTER", False, cast=_flag,
            help="local server: a new executor may take an existing name"),
)
