"""Where a notebook's journal is, worked out in one place: env, then polynb.yaml, then .polynb/ beside it."""
from __future__ import annotations

from polynb.journal import default_directory


def test_beside_the_notebook_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("POLYNB_JOURNAL_DIR", raising=False)
    monkeypatch.delenv("POLYNB_CONFIG", raising=False)
    assert default_directory(tmp_path) == tmp_path / ".polynb"


def test_polynb_yaml_beside_the_notebook_names_it_relative_to_the_notebook(tmp_path, monkeypatch):
    monkeypatch.delenv("POLYNB_JOURNAL_DIR", raising=False)
    monkeypatch.delenv("POLYNB_CONFIG", raising=False)
    (tmp_path / "polynb.yaml").write_text("core:\n  journal_dir: journals/mine\nkgrid:\n  anything: ignored\n")
    assert default_directory(tmp_path) == tmp_path / "journals" / "mine"


def test_the_environment_wins_over_polynb_yaml(tmp_path, monkeypatch):
    (tmp_path / "polynb.yaml").write_text("core:\n  journal_dir: from-yaml\n")
    monkeypatch.setenv("POLYNB_JOURNAL_DIR", str(tmp_path / "from-env"))
    assert default_directory(tmp_path) == tmp_path / "from-env"
