"""``inside``: the one rule for a name from a request or a cell, and the AIO app config that uses it."""
from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from polynb.paths import PathEscape, inside
from polynb.platforms.aio import appconfig, managers


@pytest.mark.parametrize("name", ["..", ".", "", "../x", "a/../../x", "/etc/passwd", "a/..", "nul\0byte"])
def test_a_name_that_leaves_its_folder_or_names_the_folder_itself_is_refused(tmp_path, name):
    with pytest.raises(PathEscape):
        inside(tmp_path, name)
    with pytest.raises(PathEscape):
        inside(PurePosixPath("/docs"), name)


def test_a_name_inside_its_folder_is_that_path(tmp_path):
    assert inside(tmp_path, "a/b.py") == tmp_path.resolve() / "a" / "b.py"
    assert inside(PurePosixPath("/docs"), "sub/doc.py") == PurePosixPath("/docs/sub/doc.py")


def test_a_symlink_that_points_elsewhere_is_not_inside(tmp_path):
    (tmp_path / "shelf").mkdir()
    (tmp_path / "shelf" / "link").symlink_to(tmp_path)
    with pytest.raises(PathEscape):
        inside(tmp_path / "shelf", "link/escaped.py")


def node(workflow: str) -> appconfig.NodeSpec:
    return appconfig.derive_spec(appconfig.Placement("demo", "v1.0.0", workflow), "task1", "task", subscribe=("trig",), nats_url="nats://127.0.0.1:4222")


def test_an_aio_workflow_name_cannot_write_its_app_config_outside_the_config_folder(tmp_path):
    with pytest.raises(PathEscape):
        managers.write_app_config(tmp_path / "config", node("../../escaped"))
    assert not list(tmp_path.parent.rglob("escaped"))
    assert managers.write_app_config(tmp_path / "config", node("wf")) == (tmp_path / "config/wf/task1/app.yaml").resolve()
