"""The interface every platform binding implements, and what describes a platform to the core.

A binding owns one platform's transport and wire format. The service starts it on first need (and stops it
again when ``start`` fails), hands it payload versions to register, and runs what it receives as an
:class:`~polynb.execution.Arrival` through :meth:`~polynb.execution.Host.execute`, which journals the execution
and calls back :meth:`Binding.run_payload` on a worker thread.
"""
from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from ..config import TypedSection
from ..execution import Context, Host

if TYPE_CHECKING:
    from ..journal import Record
    from ..payload import Payload, PayloadVersion
    from ..signature import Signature

STOPPED, STARTING, READY, ERROR = "stopped", "starting", "ready", "error"
#: a platform's own settings section: its stand-in is built from that class, not any section
SectionT = TypeVar("SectionT", bound=TypedSection)


@dataclass(frozen=True)
class BindingStatus:
    state: str
    address: str | None = None
    detail: str | None = None


class Binding(abc.ABC, Generic[Context]):
    """One platform, as the kernel-side service sees it; ``Context`` is what the platform hands each execution.

    Attributes that ``start`` fills are set in ``__init__`` (to None), so that ``stop`` works after any start,
    failed half-way or never run: the service calls ``stop`` to undo a failed start.
    """

    #: platforms whose payloads are called through one function need the cell to name or define it
    needs_entry: ClassVar[bool] = True

    def __init__(self, service: Host, settings: TypedSection) -> None:
        self.service = service
        self.settings = settings
        self._status = BindingStatus(STOPPED)

    @property
    def platform(self) -> str:
        return self.settings.name

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect to the platform, or start serving it (on the service loop)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Disconnect; executions in flight have already been drained."""

    @abc.abstractmethod
    async def register(self, version: PayloadVersion) -> str | None:
        """Make a payload version reachable on the platform; return where (URL, subject, ...)."""

    @abc.abstractmethod
    async def unregister(self, name: str) -> None:
        """Withdraw a payload from the platform."""

    @property
    def status(self) -> BindingStatus:
        """Connection state, for widgets and ``polynb status``, as the binding last set it."""
        return self._status

    def set_status(self, state: str, address: str | None = None, detail: str | None = None) -> None:
        """The one way a binding's state changes; the journal keeps it for the widgets and the panel."""
        status = BindingStatus(state, address, detail)
        if status != self._status:
            self._status = status
            self.service.status_changed(self.platform, state, address, detail)

    @abc.abstractmethod
    def run_payload(self, version: PayloadVersion, input: Any, context: Context | None) -> Any:
        """Call the payload the platform's way (on a worker thread, output captured)."""

    @classmethod
    def python_source(cls, payload: Payload) -> str:
        """The Python a cell holds for this platform (a binding may strip platform markup)."""
        return payload.source

    def replay_context(self, record: Record) -> Context | None:
        """The context a recorded execution is replayed with; bindings without one return None."""
        return None

    def signature(self, version: PayloadVersion) -> Signature | None:
        """The registered version's input and output shape, where the platform has one (see docs/signatures.md);
        the service stores it with the version, and call helpers check inputs against it."""
        return None


class StandIn(abc.ABC):
    """A local stand-in of a platform's server side, run by ``polynb up``."""

    @abc.abstractmethod
    async def start(self) -> Mapping[str, Any]:
        """Start serving on 127.0.0.1; return what a client needs (URLs, ports, keys)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop serving and release every child process."""


@dataclass(frozen=True)
class UpOption:
    """A ``polynb up`` flag of one platform; it sets the environment variable its stand-in reads."""

    flag: str
    env: str
    help: str
    kind: str = "path"  # "path" (made absolute), "value", or "switch" (sets the variable to "true")


@dataclass(frozen=True)
class Platform(Generic[SectionT]):
    """What a platform folder contributes: its binding, settings, magics and local stand-in."""

    name: str
    title: str
    binding: type[Binding[Any]]
    #: the platform's section of the settings (its ``settings.py``); the service builds the binding with it
    settings: type[SectionT]
    magics: type | None = None
    stand_in: Callable[[SectionT], StandIn] | None = None
    up_options: tuple[UpOption, ...] = ()
    #: the environment that points a kernel at a running stand-in, from what the stand-in reported
    client_env: Callable[[Mapping[str, Any]], Mapping[str, str]] | None = None
