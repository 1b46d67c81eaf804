"""Reading the real connector's server.config and merging it with polynb's settings."""
from __future__ import annotations

import pytest

from polynb.config import ConfigError
from polynb.platforms.vantiq.serverconfig import parse_properties, resolve

DEFAULTS = {"target_server": None, "auth_token": None, "sources": "polynb", "send_pings": None,
            "fail_on_connection_error": None, "reconnect_secret": None, "connect_kwargs": None,
            "tcp_probe_port": 8000, "reply_timeout": 30.0, "connect_wait": 10.0}


def test_java_properties_separators_comments_escapes_and_continuations():
    text = ("# comment\n! also a comment\ntargetServer = http://h:1\nauthToken:tok\\=en\nsources a, b\n"
            "long = one \\\n    two\nunicode = \\u0041\n")
    assert parse_properties(text) == {"targetServer": "http://h:1", "authToken": "tok=en", "sources": "a, b",
                                      "long": "one two", "unicode": "A"}


def test_server_config_under_serverConfig_wins_over_polynb_settings(tmp_path):
    (tmp_path / "serverConfig").mkdir()
    (tmp_path / "serverConfig" / "server.config").write_text("targetServer=http://file:1\nauthToken=from-file\n")
    (tmp_path / "server.config").write_text("targetServer=http://ignored:2\n")
    config = resolve({**DEFAULTS, "auth_token": "from-env", "sources": "x"}, tmp_path)
    assert (config.target_server, config.auth_token, config.sources) == ("http://file:1", "from-file", ("x",))
    assert config.origin.endswith("serverConfig/server.config")


def test_without_a_file_the_token_comes_from_the_settings_and_sources_lose_spaces(tmp_path):
    config = resolve({**DEFAULTS, "auth_token": "env-token", "sources": " a , b "}, tmp_path)
    assert (config.auth_token, config.sources, config.origin) == ("env-token", ("a", "b"), "polynb settings")


def test_send_pings_is_on_whenever_the_key_is_present_even_false(tmp_path):
    (tmp_path / "server.config").write_text("sendPings=false\nfailOnConnectionError=false\n")
    config = resolve(DEFAULTS, tmp_path)
    assert config.send_pings and config.fail_on_connection_error
    assert not resolve(DEFAULTS, tmp_path / "missing").send_pings


def test_the_reconnect_secret_is_source_underscore_value_or_a_uuid(tmp_path):
    fixed = resolve({**DEFAULTS, "reconnect_secret": "s3"}, tmp_path)
    assert fixed.secret_for("src") == "src_s3"
    assert resolve(DEFAULTS, tmp_path).secret_for("src").startswith("src_")


def test_connect_kwargs_must_be_a_json_object(tmp_path):
    (tmp_path / "server.config").write_text('connectKWArgs={"disableSslVerification": true}\n')
    assert resolve(DEFAULTS, tmp_path).connect_kwargs == {"disableSslVerification": True}
    (tmp_path / "server.config").write_text("connectKWArgs={not json\n")
    with pytest.raises(ConfigError, match="connectKWArgs is not valid JSON"):
        resolve(DEFAULTS, tmp_path)
