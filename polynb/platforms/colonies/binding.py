"""polynb as a Colonies executor: the binding that connects to the colony and registers cell functions.

It connects to the colony (``COLONIES_SERVER_HOST``, or the local server it starts), keeps polynb's
executors (each an :class:`~.executor.ExecutorLoop` that serves its processes) and adds each cell's function
to them.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import socket
from typing import Any

from ... import progress
from ...execution import Host
from ...local import LocalStandIn, start_local
from ...payload import PayloadVersion
from ...runner import call_payload
from ...signature import Signature
from ..base import ERROR, READY, Binding
from . import crypto, keys, wire
from . import signature as signatures
from .client import ColoniesClient
from .executor import PLATFORM, Connection, ExecutorLoop, ProcessContext, approval_instructions
from .naming import executor_name
from .settings import ColoniesSettings

log = logging.getLogger("polynb.colonies")


class ColoniesBinding(Binding[ProcessContext]):
    """Connects to the colony (or the local server), keeps polynb's executors, serves their processes."""

    settings: ColoniesSettings

    def __init__(self, service: Host, settings: ColoniesSettings) -> None:
        super().__init__(service, settings)
        self.local: LocalStandIn | None = None
        self._connection: Connection | None = None
        self.executors: dict[str, ExecutorLoop] = {}
        self._member_key: str | None = None

    @property
    def connection(self) -> Connection:
        """The colony connection that ``start`` made: what executors, submissions and registrations go through."""
        if self._connection is None:
            raise RuntimeError("the Colonies binding is not started")
        return self._connection

    async def start(self) -> None:
        settings = self.settings
        if settings.server_host:
            host, port, tls = settings.server_host, settings.server_port, settings.server_tls
            colony, colony_key = settings.colony_name, settings.colony_prvkey
        else:
            self.local = await start_local(PLATFORM, env=self._stand_in_env())
            info = self.local.info
            host, port, tls, colony, colony_key = (info["host"], info["port"], False, info["colony_name"],
                                                   info["colony_prvkey"])
        client = ColoniesClient(host, port, tls, timeout=settings.http_timeout, retries=settings.retries)
        self._connection = Connection(client, colony, colony_key, f"{'https' if tls else 'http'}://{host}:{port}")
        self.set_status(READY, self._connection.address)

    def _stand_in_env(self) -> dict[str, str]:
        """The local server listens on a free port and keeps its state beside this kernel's journal."""
        env = {"POLYNB_COLONIES_LOCAL_PORT": "0"}
        if not self.settings.local_state:
            env["POLYNB_COLONIES_LOCAL_STATE"] = str(self.service.journal.directory / "colonies" / "server.sqlite")
        return env

    async def stop(self) -> None:
        if self._connection is not None:
            await self._remove_executors(self._connection)
            await self._connection.client.close()
            self._connection = None
        if self.local is not None:
            await self.local.stop()
            self.local = None

    async def _remove_executors(self, connection: Connection) -> None:
        """Stop every executor; a per-kernel one (or any, with ``remove_executor``) leaves the colony too."""
        for executor in list(self.executors.values()):
            await executor.stop()
            if (executor.per_kernel or self.settings.remove_executor) and connection.colony_key:
                try:
                    await connection.client.remove_executor(connection.colony, executor.name,
                                                            connection.colony_key)
                except wire.ColoniesError as exc:
                    log.warning("colonies: could not remove executor %s: %s", executor.name, exc)
        self.executors.clear()

    # -- connection state -----------------------------------------------------------------------------
    def connected(self) -> None:
        self.set_status(READY, self.status.address)

    def trouble(self, detail: str) -> None:
        self.set_status(ERROR, self.status.address, detail)

    # -- executors ------------------------------------------------------------------------------------
    def default_executor_name(self, executortype: str, per_kernel: bool) -> str:
        """``COLONIES_EXECUTOR_NAME``, else this kernel's own name, or the notebook's (see :mod:`.naming`)."""
        return self.settings.executor_name or executor_name(executortype, per_kernel)

    def _key_for(self, name: str, per_kernel: bool) -> str:
        """A per-kernel executor gets a fresh key; a named one keeps its key file to come back as itself."""
        if self.settings.prvkey and name == self.settings.executor_name:
            return self.settings.prvkey
        if per_kernel:
            return crypto.generate_private_key()
        return keys.load_or_create(self.service.journal.directory, f"executor-{name}")

    async def executor(self, name: str | None, executortype: str) -> ExecutorLoop:
        """The running executor of that name (None: the default), registered and approved first if need be.

        The default is the kernel's own executor when polynb approves it itself (it holds the colony key);
        when the colony owner must approve it, the notebook's, so that the owner approves it once.
        """
        per_kernel = name is None and not self.settings.executor_name and bool(self.connection.colony_key)
        name = name or self.default_executor_name(executortype, per_kernel)
        existing = self.executors.get(name)
        if existing is not None:
            if existing.executortype != executortype:
                raise ValueError(f"executor {name!r} already serves type {existing.executortype!r}, "
                                 f"not {executortype!r}; pick another --executorname")
            return existing
        executor = ExecutorLoop(self, name, executortype, self._key_for(name, per_kernel), per_kernel)
        await self._enroll(executor)
        self.executors[name] = executor
        return executor

    async def _enroll(self, executor: ExecutorLoop) -> None:
        client, colony, colony_key = self.connection.client, self.connection.colony, self.connection.colony_key
        if colony_key:
            progress.report(f"registering executor {executor.name}")
            try:
                await client.add_executor(executor.key, executor.name, executor.executortype, colony, colony_key)
            except wire.BadRequest as exc:
                if "already exists" not in exc.message:
                    raise
            await client.approve_executor(colony, executor.name, colony_key)
        await self._await_approval(executor, owner=bool(colony_key))

    async def _await_approval(self, executor: ExecutorLoop, owner: bool) -> None:
        """Wait until the executor is an approved member; without the colony key, say what the owner must run.

        As the owner polynb has just approved the name: if its key is still no member, the name belongs
        to another key, and waiting would never end.
        """
        client, colony = self.connection.client, self.connection.colony
        while True:
            try:
                record = await client.get_executor(colony, executor.name, executor.key)
            except wire.Forbidden:
                record = None
            if record is not None and record["executorid"] == executor.id:
                return
            if record is not None or owner:
                raise ValueError(f"executor name {executor.name!r} is taken in colony {colony!r} by another "
                                 "key; pick another --executorname (or COLONIES_EXECUTOR_NAME)")
            message = approval_instructions(self.connection.address, colony, executor)
            progress.report(message)
            log.warning(message)
            await asyncio.sleep(2.0)

    async def member_key(self) -> str:
        """The key polynb submits with: ``COLONIES_PRVKEY``, or a user of its own the colony owner adds."""
        if self.settings.prvkey:
            return self.settings.prvkey
        if self._member_key is None:
            key = keys.load_or_create(self.service.journal.directory, "submitter")
            if not self.connection.colony_key:
                raise ValueError("submitting needs a member key: set COLONIES_PRVKEY (an approved executor's or a "
                                 "user's key), or COLONIES_COLONY_PRVKEY so polynb can add its own user")
            name = f"polynb-{socket.gethostname()}-{crypto.identity(key)[:8]}"
            await self.connection.client.add_user(self.connection.colony, name, key, self.connection.colony_key)
            self._member_key = key
        return self._member_key

    # -- payloads -------------------------------------------------------------------------------------
    async def register(self, version) -> str:
        options = version.payload.options
        executortype = options.get("executortype") or self.settings.executor_type
        executor = await self.executor(options.get("executorname"), executortype)
        name = executor.name
        progress.report(f"adding function {version.name} to {name}")
        await self.connection.client.add_function(self.connection.colony, name, version.name, executor.key)
        executor.scale(int(options.get("concurrency") or 1))
        return f"{self.connection.address} colony {self.connection.colony}, executor {name} (type {executortype})"

    async def unregister(self, name: str) -> None:
        """Nothing to tell the server: once the service forgets the payload, its processes fail as unknown."""

    def run_payload(self, version: PayloadVersion, input: Any, context: ProcessContext | None) -> Any:
        args, kwargs = wire.checked_arguments((input or {}).get("args", []), (input or {}).get("kwargs", {}))
        function = version.entry_point()
        return call_payload(functools.partial(function, **kwargs) if kwargs else function, *args)

    def signature(self, version: PayloadVersion) -> Signature | None:
        """The cell function's parameters (what a spec's args and kwargs bind to) and its return annotation."""
        return signatures.of_function(version.name, version.entry_point())

