"""Settings from environment variables and an optional ``polynb.yaml``, one section per platform.

Precedence: environment variable, then ``polynb.yaml``, then the default. A secret (token, private key)
is never read from ``polynb.yaml`` itself: it comes from its environment variable, or from a file named by
``<ENV>_FILE`` or by the YAML key ``<key>_file``, so that notebooks and journals never hold it.

Code reads settings through typed attributes: a section is a :class:`TypedSection` subclass with one
:class:`Field` per setting (``settings.core.bind_host``, ``self.settings.adapter_url``), so a misspelt key is
an attribute error a linter sees, not a ``KeyError`` at run time.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, cast, overload

import yaml

MASK = "********"


class ConfigError(ValueError):
    """A setting that cannot be used as given."""


@dataclass(frozen=True)
class Setting:
    key: str
    env: str | None
    default: Any = None
    secret: bool = False
    cast: Callable[[str], Any] = str
    help: str = ""


T = TypeVar("T")
S = TypeVar("S", bound="TypedSection")

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})


def flag(text: str) -> bool:
    """A switch: true, 1, yes or on (any case) is True, anything else False, so a stray value never stops a kernel."""
    return text.strip().lower() in TRUE_WORDS


class Field(Generic[T]):
    """One setting of a :class:`TypedSection`, read as an attribute; the attribute's name is the setting's key."""

    def __init__(self, env: str | None, default: T, *, cast: Callable[[str], T] | type = str, secret: bool = False,
                 help: str = "") -> None:
        self.env, self.default, self.cast, self.secret, self.help = env, default, cast, secret, help
        self.key = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    @overload
    def __get__(self, instance: None, owner: type) -> Field[T]: ...

    @overload
    def __get__(self, instance: TypedSection, owner: type) -> T: ...

    def __get__(self, instance: TypedSection | None, owner: type) -> Field[T] | T:
        if instance is None:
            return self
        return cast(T, instance.section[self.key])

    def setting(self) -> Setting:
        return Setting(self.key, self.env, self.default, self.secret, self.cast, self.help)


class TypedSection:
    """One section of the settings with a typed attribute per :class:`Field`; subclasses declare the fields.

    It wraps the :class:`Section` that resolved the values: ``name`` and ``masked()`` are what
    ``%polynb config`` shows, ``section.sources`` says where each value came from. A field may not take the
    name of one of these attributes (Vantiq has a setting called ``sources``), so a subclass that tries fails
    at once.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        taken = sorted(name for name, value in vars(cls).items()
                       if isinstance(value, Field) and (name == "section" or hasattr(TypedSection, name)))
        if taken:
            raise TypeError(f"{cls.__name__}: a setting may not be called {', '.join(taken)} "
                            f"(TypedSection uses the name)")

    def __init__(self, section: Section) -> None:
        self.section = section

    @classmethod
    def schema(cls) -> tuple[Setting, ...]:
        """Every field's setting, in the order the class (and its bases) declare them."""
        fields: dict[str, Field[Any]] = {}
        for klass in reversed(cls.__mro__):
            fields.update((name, value) for name, value in vars(klass).items() if isinstance(value, Field))
        return tuple(field.setting() for field in fields.values())

    @classmethod
    def read(cls: type[S], name: str, yaml_section: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> S:
        """The section resolved from ``environ`` (default: the process's) over ``yaml_section``."""
        return cls(Section(name, cls.schema(), yaml_section or {}, os.environ if environ is None else environ))

    @property
    def name(self) -> str:
        return self.section.name

    def masked(self) -> dict[str, Any]:
        return self.section.masked()

    def as_dict(self) -> dict[str, Any]:
        """Every value by key, for code that merges settings with another source keyed the same way."""
        return dict(self.section)


MIN_RECORD_BYTES = 1024  # room for the head of a cut field and the mark that says it was cut


def _record_limit(text: str) -> int:
    """``max_record_bytes``: a whole number of bytes that a cut field and its mark fit in."""
    size = int(text)
    if size < MIN_RECORD_BYTES:
        raise ValueError(f"it must be at least {MIN_RECORD_BYTES} bytes")
    return size


def seconds_or_none(text: Any) -> float | None:
    """A time limit: positive seconds, or none (empty, ``none``, ``0``)."""
    if text is None or str(text).strip().lower() in ("", "none", "0", "0.0"):
        return None
    seconds = float(text)
    if seconds < 0:
        raise ValueError("it must be a number of seconds above 0 (or none)")
    return seconds


class CoreSettings(TypedSection):
    """The ``core`` section: what the service, the journal and every server polynb starts share."""

    journal_dir = Field[str | None]("POLYNB_JOURNAL_DIR", None,
                                    help="folder of the journal (default: .polynb beside the notebook)")
    workers = Field[int]("POLYNB_WORKERS", 4, cast=int, help="worker threads that run payloads")
    drain_timeout = Field[float]("POLYNB_DRAIN_TIMEOUT", 10.0, cast=float,
                                 help="seconds stop waits for executions in flight")
    bind_host = Field[str]("POLYNB_BIND_HOST", "127.0.0.1", help="address every server polynb starts binds")
    call_timeout = Field[float]("POLYNB_CALL_TIMEOUT", 60.0, cast=float,
                                help="seconds a call helper (call, request, query, --wait) waits for its answer by default")
    timeout = Field[float | None]("POLYNB_TIMEOUT", None, cast=seconds_or_none,
                                  help="seconds an execution may run before it is cancelled and recorded as timed out "
                                       "(default: no limit); a payload's --timeout wins")
    inline_budget = Field[float]("POLYNB_INLINE_BUDGET", 0.0005, cast=float,
                                 help="CPU seconds within which a payload must have run 16 times in a row (and "
                                      "blocked no longer than 2 ms) to run on the service loop, not a worker thread "
                                      "(0: always a worker)")
    cancel_grace = Field[float]("POLYNB_CANCEL_GRACE", 5.0, cast=float,
                                help="seconds a cancelled payload has to stop; past them its record is closed anyway "
                                     "and its worker thread written off")
    max_record_bytes = Field[int]("POLYNB_MAX_RECORD_BYTES", 1 << 20, cast=_record_limit,
                                  help="bytes a journal record keeps of each field (input, output, stdout, stderr, logs, "
                                       "error, traceback); a longer one is cut and marked with its size, the payload "
                                       "still gets all of it")


def notebook_path() -> Path | None:
    """The notebook this kernel runs, from the session name Jupyter gives its kernels.

    jupyter-server gives an absolute path or one relative to its root; the kernel's working folder is
    the notebook's folder, so a relative name resolves against it.
    """
    session = os.environ.get("JPY_SESSION_NAME")
    if not session:
        return None
    path = Path(session)
    return path if path.is_absolute() else Path.cwd() / path.name


def notebook_directory() -> Path:
    """Where the notebook lives (the cwd when Jupyter does not say)."""
    path = notebook_path()
    return path.parent if path is not None and path.parent.is_dir() else Path.cwd()


def config_path(directory: Path | None = None) -> Path | None:
    """``POLYNB_CONFIG``, else the ``polynb.yaml`` in ``directory`` (default: the notebook's folder)."""
    named = os.environ.get("POLYNB_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"POLYNB_CONFIG names {named}, which is not a file")
        return path
    path = (directory or notebook_directory()) / "polynb.yaml"
    return path if path.is_file() else None


def _read_yaml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of sections (core, kgrid, vantiq, ...)")
    return data


class Section(Mapping[str, Any]):
    """The effective settings of one section, with where each value came from."""

    def __init__(self, name: str, settings: Iterable[Setting], yaml_section: Mapping[str, Any],
                 environ: Mapping[str, str]) -> None:
        self.name = name
        self.settings = {s.key: s for s in settings}
        self._values: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        unknown = set(yaml_section) - set(self.settings) - {f"{k}_file" for k in self.settings}
        if unknown:
            raise ConfigError(f"polynb.yaml section {name!r} has unknown keys: {', '.join(sorted(unknown))}")
        for setting in self.settings.values():
            self._values[setting.key], self.sources[setting.key] = _resolve(name, setting, yaml_section, environ)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def masked(self) -> dict[str, Any]:
        """Values fit to show: secrets that are set appear as a mask."""
        return {key: (MASK if self.settings[key].secret and value is not None else value)
                for key, value in self._values.items()}


def _resolve(section: str, setting: Setting, yaml_section: Mapping[str, Any],
             environ: Mapping[str, str]) -> tuple[Any, str]:
    if setting.env and setting.env in environ:
        return _cast(setting, environ[setting.env]), f"env {setting.env}"
    if setting.secret:
        if setting.key in yaml_section:
            raise ConfigError(
                f"polynb.yaml must not hold the secret {section}.{setting.key}: set {setting.env} "
                f"or name a file with {setting.key}_file")
        file_name = (environ.get(f"{setting.env}_FILE") if setting.env else None) or yaml_section.get(f"{setting.key}_file")
        if file_name:
            try:
                return Path(file_name).expanduser().read_text().strip(), f"file {file_name}"
            except OSError as exc:
                raise ConfigError(f"cannot read {section}.{setting.key} from {file_name}: {exc}") from exc
    elif setting.key in yaml_section:
        value = yaml_section[setting.key]
        return (_cast(setting, value) if isinstance(value, str) else value), "polynb.yaml"
    return setting.default, "default"


def _cast(setting: Setting, text: str) -> Any:
    try:
        return setting.cast(text)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{setting.env or setting.key}={text!r} is not a valid {setting.key}: {exc}") from exc


def core_section(directory: Path | None = None, environ: Mapping[str, str] | None = None) -> CoreSettings:
    """The core settings alone, for processes that know no platform schema (a stand-in in ``polynb up``, the
    lab extension); the other sections of ``polynb.yaml`` are left to whoever reads them."""
    data = _read_yaml(config_path(directory))
    return CoreSettings.read("core", data.get("core"), environ)


class Settings:
    """Every section, loaded once from the environment and polynb.yaml; ``core`` is always one of them."""

    def __init__(self, schema: Mapping[str, type[TypedSection]], environ: Mapping[str, str] | None = None,
                 path: Path | None = None) -> None:
        environ = os.environ if environ is None else environ
        schema = {"core": CoreSettings, **schema}
        self.path = path if path is not None else config_path()
        data = _read_yaml(self.path)
        unknown = set(data) - set(schema)
        if unknown:
            raise ConfigError(f"polynb.yaml has unknown sections: {', '.join(sorted(unknown))}")
        self.sections = {name: section.read(name, data.get(name), environ) for name, section in schema.items()}

    def __getitem__(self, name: str) -> TypedSection:
        return self.sections[name]

    @property
    def core(self) -> CoreSettings:
        return cast(CoreSettings, self.sections["core"])

    def describe(self) -> dict[str, dict[str, Any]]:
        """Every effective setting, secrets masked, for ``%polynb config``."""
        return {name: section.masked() for name, section in self.sections.items()}
