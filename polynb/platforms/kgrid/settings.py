"""Settings of the KGrid platform: the variables the real Python runtime and activator read, plus polynb's own."""
from __future__ import annotations

from ...config import Field, TypedSection, flag


def comma_separated(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


class KgridSettings(TypedSection):
    adapter_url = Field[str | None]("KGRID_PROXY_ADAPTER_URL", None,
                                    help="the activator (its proxy adapter); unset: polynb starts its local activator")
    env_url = Field[str | None]("KGRID_PYTHON_ENV_URL", None,
                                help="the runtime's URL as the activator reaches it (default http://<bind host>:<port>)")
    runtime_port = Field[int | None]("POLYNB_KGRID_PORT", None, cast=int,
                                     help="the runtime's port (0: a free one); wins over PORT and KGRID_PYTHON_ENV_PORT")
    port_override = Field[int | None]("PORT", None, cast=int,
                                      help="overrides KGRID_PYTHON_ENV_PORT, as in the real runtime, unless another "
                                           "platform took PORT first")
    port = Field[int | None]("KGRID_PYTHON_ENV_PORT", None, cast=int,
                             help="the runtime's port (default: a free one; 5000, the real runtime's, when "
                                  "KGRID_PYTHON_ENV_URL is set)")
    cache_strategy = Field[str]("KGRID_PYTHON_CACHE_STRATEGY", "never", help="never, always or use_checksum")
    artifact_origins = Field[tuple[str, ...]]("POLYNB_KGRID_ARTIFACT_ORIGINS", (), cast=comma_separated,
                                              help="origins besides the activator's that KO artifacts may be "
                                                   "downloaded from (comma-separated URLs; * for any)")
    heartbeat = Field[int]("KGRID_PROXY_HEARTBEAT_INTERVAL", 30, cast=int,
                           help="seconds between re-registrations; below 5 disables the heartbeat")
    debug = Field[bool]("DEBUG", False, cast=flag, help="true: debug logging of the runtime")
    shelf_dir = Field[str | None]("KGRID_PYTHON_SHELF_DIR", None,
                                  help="the runtime's pyshelf (default <journal>/kgrid/pyshelf)")
    activator_port = Field[int]("KGRID_ACTIVATOR_PORT", 0, cast=int, help="the local activator's port (default: free)")
    activator_shelf = Field[str | None]("KGRID_ACTIVATOR_SHELF", None,
                                        help="the local activator's shelf (default <journal>/kgrid/activator)")
    kos_dir = Field[str | None]("KGRID_KOS_DIR", None,
                                help="a folder of KO folders and zips the local activator loads at start")
