"""Shared fixtures: the fake platform (tests/fakeplatform.py) is reachable in-process, in kernels and in CLIs."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
os.environ["POLYNB_PLUGINS"] = "fakeplatform"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))


#: folders and file names whose tests need more than this process: a marker each, so `make test-fast` skips them
MARKS_BY_PATH = (("/journeys/", "slow"), ("/deploy/", "slow"), ("/scaleout/", "scaleout"), ("browser", "browser"),
                 ("conformance", "peers"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.as_posix()
        for part, marker in MARKS_BY_PATH:
            if part in path:
                item.add_marker(marker)


@pytest.fixture
def journal_dir(tmp_path, monkeypatch) -> Path:
    """A journal folder of the test's own, also what polynb picks up from the environment."""
    directory = tmp_path / ".polynb"
    monkeypatch.setenv("POLYNB_JOURNAL_DIR", str(directory))
    return directory


@pytest.fixture(scope="session")
def fake_registry():
    """One `polynb up fake --json` for the session: the fake platform's server, as a user would start it."""
    import json
    import signal
    import subprocess

    process = subprocess.Popen([sys.executable, "-m", "polynb", "up", "fake", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        info = json.loads(process.stdout.readline())["fake"]
        yield info["url"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


@pytest.fixture
def registry(fake_registry, monkeypatch) -> str:
    monkeypatch.setenv("FAKE_REGISTRY_URL", fake_registry)
    return fake_registry
