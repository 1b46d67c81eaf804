"""Shared fixtures: the fake platform (tests/fakeplatform.py) is reachable in-process, in kernels and in CLIs."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from support import Standin

TESTS = Path(__file__).resolve().parent  # on sys.path through pytest's `pythonpath`; children get PYTHONPATH
os.environ["POLYNB_PLUGINS"] = "fakeplatform"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))


#: folders and file names whose tests need more than this process: a marker each, so `make test-fast` skips them.
#: `slow` also takes the tests that start Jupyter servers (lab) or kernels; single tests that restart a platform
#: or run `polynb serve` carry `@pytest.mark.slow` themselves.
MARKS_BY_PATH = (("/journeys/", "slow"), ("/deploy/", "slow"), ("/lab/", "slow"), ("/kernel/", "slow"),
                 ("/scaleout/", "scaleout"), ("browser", "browser"), ("conformance", "peers"), ("/cli/", "servers"))
#: the fixtures that start Jupyter kernels (seconds each): a test that uses one is `slow`
KERNEL_FIXTURES = {"kernel", "kernels"}
#: the fixtures that start a platform's server in a process of its own (a stand-in, nats-server, the local
#: proxy): a test that uses one is `servers`. The fake platform's one server per session is not counted.
SERVER_FIXTURES = {"standin", "activator", "nats_server", "server", "ip", "proxied"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.as_posix()
        for part, marker in MARKS_BY_PATH:
            if part in path:
                item.add_marker(marker)
        fixtures = set(getattr(item, "fixturenames", ()))
        if KERNEL_FIXTURES & fixtures:
            item.add_marker("slow")
        if SERVER_FIXTURES & fixtures:
            item.add_marker("servers")


@pytest.fixture
def journal_dir(tmp_path, monkeypatch) -> Path:
    """A journal folder of the test's own, also what polynb picks up from the environment."""
    directory = tmp_path / ".polynb"
    monkeypatch.setenv("POLYNB_JOURNAL_DIR", str(directory))
    return directory


@pytest.fixture
def standin() -> Iterator[Callable[..., Standin]]:
    """Starts ``polynb up PLATFORM [ARGS] --json`` as a user would: ``standin("vantiq", env=...)`` returns the
    running `Standin` (its ``info`` is the JSON line's); each is stopped when the test ends."""
    with ExitStack() as started:
        yield lambda platform, *args, **options: started.enter_context(Standin(platform, *args, **options))


@pytest.fixture(scope="session")
def fake_registry() -> Iterator[str]:
    """One `polynb up fake --json` for the session: the fake platform's server, as a user would start it."""
    with Standin("fake") as running:
        yield running.info["url"]


@pytest.fixture
def registry(fake_registry, monkeypatch) -> str:
    monkeypatch.setenv("FAKE_REGISTRY_URL", fake_registry)
    return fake_registry
