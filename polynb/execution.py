"""The seam between the core and the platforms: what arrives, how it ended, and what a binding may ask of the core.

A binding turns a platform's delivery into an :class:`Arrival` and hands it to :meth:`Host.execute`, which
journals it, runs it on a worker thread and closes its record; input the binding cannot use goes to
:meth:`Host.refuse`, which journals it as failed without running anything. Either way the binding gets an
:class:`Outcome` to answer its platform with. The refusal codes below are the core's: a binding maps them onto
its platform's own error form.
"""
from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    import asyncio

    from .config import Settings
    from .generic_env import GenericVariables
    from .journal import Journal
    from .payload import PayloadVersion

#: no registered payload has the name the platform asked for
NOT_FOUND = "PayloadNotFound"
#: the service is stopping and takes no new executions
UNAVAILABLE = "ServiceStopping"

Context = TypeVar("Context")
T = TypeVar("T")


@dataclass(frozen=True)
class Arrival(Generic[Context]):
    """One execution as its platform delivered it.

    ``context`` is the platform's own (a Colonies process, a KAI message, a CloudState stream step), handed
    to :meth:`~polynb.platforms.base.Binding.run_payload` with the payload version current at arrival.
    ``code`` is for what the platform sends to run itself (a Vantiq ``code`` query, a KO on the shelf, a node's
    initializer): it runs instead of a registered payload, and no payload needs to be registered.
    ``encode`` turns the result into the platform's wire form on the worker thread, so that a result the wire
    cannot carry fails its record instead of the reply. ``timeout`` is the platform's own limit on the run (a
    Colonies process's maxexectime): the smaller of it and the payload's ``--timeout`` applies. ``log`` is the
    platform's own log channel: it is called on the service loop with the lines the payload writes, while it
    runs, the last ones before the outcome is handed back. ``inline`` is the binding's word that what it runs
    never waits for the service loop (no SDK call that blocks on it, no event loop of its own), so that a payload
    version that has always been fast may run on the loop itself (:mod:`polynb.inline`).
    """

    platform: str
    name: str
    input: Any
    context: Context | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    encode: Callable[[Any], Any] | None = None
    code: Callable[[], Any] | None = None
    timeout: float | None = None
    log: Callable[[list[str]], None] | None = None
    inline: bool = False


@dataclass(frozen=True)
class Outcome:
    """How one execution ended, for the binding to answer its platform: the (encoded) value or the error,
    and what the payload printed and logged while it ran."""

    record_id: str
    ok: bool
    value: Any = None
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None
    stdout: str = ""
    stderr: str = ""
    logs: tuple[dict[str, Any], ...] = ()
    #: what the payload raised, kept for a replay's post-mortem debugger (never sent anywhere)
    exception: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def delivered(self) -> bool:
        """False when the core refused to run it (unknown payload, stopping): the platform may deliver it again."""
        return self.error_type not in (NOT_FOUND, UNAVAILABLE)


class Host(Protocol):
    """What a binding may ask of the kernel-side service: nothing more, so a binding never reaches into it."""

    journal: Journal
    settings: Settings
    notebook_ns: dict[str, Any] | None
    #: generic deploy variables (``PORT``) the kernel's platforms share: the first to start takes each
    generic_variables: GenericVariables
    #: the service's event loop, where bindings keep their connections
    loop: asyncio.AbstractEventLoop

    async def execute(self, arrival: Arrival[Any]) -> Outcome:
        """Journal the arrival, run it on a worker thread, close its record."""

    async def refuse(self, arrival: Arrival[Any], error: BaseException | str) -> Outcome:
        """Journal an arrival the binding cannot run (malformed input, a platform's error report) as failed."""

    def current(self, platform: str, name: str) -> PayloadVersion | None:
        """The payload version new executions get."""

    def status_changed(self, platform: str, state: str, address: str | None, detail: str | None) -> None:
        """A binding's connection state changed (``Binding.set_status`` calls this)."""

    def call(self, coro: Coroutine[Any, Any, T], label: str | None = None, timeout: float | None = None) -> T:
        """Run a coroutine on the service loop from another thread (a cell's) and wait for it."""
