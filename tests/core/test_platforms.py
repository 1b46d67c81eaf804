"""Platform discovery: built-in folders, plug-ins, and a broken folder that must not hide the others."""
from __future__ import annotations

import pytest

from polynb import platforms


@pytest.fixture
def fresh_discovery(monkeypatch, tmp_path):
    broken = tmp_path / "brokenplatform"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('half-written platform')\n")
    monkeypatch.setattr(platforms, "__path__", [*platforms.__path__, str(tmp_path)])
    monkeypatch.setattr(platforms, "_registered", {"fake": platforms.get("fake")})  # a plug-in imports once
    monkeypatch.setattr(platforms, "_broken", {})
    monkeypatch.setattr(platforms, "_discovered", False)


def test_plugins_named_in_polynb_plugins_are_known():
    assert "fake" in platforms.available()
    assert platforms.get("fake").title == "the fake platform"


def test_a_platform_that_fails_to_import_is_reported_and_the_others_still_load(fresh_discovery, caplog):
    known = platforms.available()
    assert "brokenplatform" not in known
    assert "fake" in known
    assert "half-written platform" in caplog.text
    with pytest.raises(KeyError, match="the brokenplatform platform failed to load: ImportError: half-written"):
        platforms.get("brokenplatform")


def test_an_unknown_platform_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown platform 'nope'; polynb knows: .*fake"):
        platforms.get("nope")
