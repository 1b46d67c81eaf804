"""The ``COLONIES_*`` variables read as pycolonies reads them, polynb.yaml below them, secrets never from YAML."""
from __future__ import annotations

import pytest

from polynb.config import ConfigError, Settings
from polynb.platforms.colonies.settings import ColoniesSettings


def section(tmp_path, yaml_text="", **environ):
    path = tmp_path / "polynb.yaml"
    path.write_text(yaml_text)
    return Settings({"colonies": ColoniesSettings}, environ=environ, path=path)["colonies"]


def test_defaults_mean_the_local_server_and_explicit_assign_timeouts(tmp_path):
    colonies = section(tmp_path)
    assert colonies.server_host is None and colonies.colony_name == "dev"
    assert colonies.assign_timeout == 10 and colonies.executor_type == "polynb"


@pytest.mark.parametrize("value, tls", [("true", True), ("True", False), ("1", False), ("false", False)])
def test_tls_is_on_only_for_the_exact_text_true_like_pycolonies(tmp_path, value, tls):
    assert section(tmp_path, COLONIES_SERVER_TLS=value).server_tls is tls


def test_environment_wins_over_polynb_yaml(tmp_path):
    colonies = section(tmp_path, "colonies:\n  server_host: yaml-host\n  server_port: 1234\n",
                       COLONIES_SERVER_HOST="env-host")
    assert colonies.server_host == "env-host" and colonies.server_port == 1234


def test_a_port_that_is_not_a_number_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="COLONIES_SERVER_PORT"):
        section(tmp_path, COLONIES_SERVER_PORT="fifty")


def test_private_keys_are_never_read_from_polynb_yaml(tmp_path):
    with pytest.raises(ConfigError, match="must not hold the secret colonies.prvkey"):
        section(tmp_path, "colonies:\n  prvkey: abc\n")
    key_file = tmp_path / "executor.key"
    key_file.write_text("ab" * 32 + "\n")
    assert section(tmp_path, f"colonies:\n  prvkey_file: {key_file}\n").prvkey == "ab" * 32
