"""Settings of the CloudState platform: the variables the official library and proxy read, plus polynb's own."""
from __future__ import annotations

from ...config import Field, TypedSection


class CloudStateSettings(TypedSection):
    host = Field[str | None]("POLYNB_CLOUDSTATE_HOST", None, help="where the user function listens; wins over HOST")
    generic_host = Field[str | None]("HOST", None,
                                     help="as the official library reads it (default: the core's bind_host)")
    port = Field[int | None]("POLYNB_CLOUDSTATE_PORT", None, cast=int,
                             help="the user function's port (0: a free one); wins over PORT")
    generic_port = Field[int | None]("PORT", None, cast=int,
                                     help="as the official library reads it, unless another platform of the kernel "
                                          "took PORT first")
    proxy = Field[str | None]("CLOUDSTATE_PROXY", None,
                              help="host:port of a running proxy's gRPC side; unset: polynb starts its own")
    proxy_http = Field[str | None]("CLOUDSTATE_PROXY_HTTP", None, help="the proxy's HTTP/JSON base URL")
    user_function_host = Field[str]("USER_FUNCTION_HOST", "127.0.0.1", help="local proxy: where the user function is")
    user_function_port = Field[int]("USER_FUNCTION_PORT", 8080, cast=int, help="local proxy: the user function's port")
    proxy_port = Field[int]("CLOUDSTATE_PROXY_PORT", 9000, cast=int, help="local proxy: its gRPC port (0: free)")
    proxy_http_port = Field[int]("CLOUDSTATE_PROXY_HTTP_PORT", 9001, cast=int,
                                 help="local proxy: its HTTP port (0: free)")
    proxy_db = Field[str | None]("CLOUDSTATE_PROXY_DB", None, help="local proxy: SQLite file of events and snapshots")
