import pytest

from polynb.config import MASK, ConfigError, CoreSettings, Field, Setting, Settings, TypedSection, flag


class DemoSettings(TypedSection):
    url = Field[str]("DEMO_URL", "http://default")
    token = Field[str | None]("DEMO_TOKEN", None, secret=True)
    retries = Field[int]("DEMO_RETRIES", 3, cast=int, help="how often")


SCHEMA = {"demo": DemoSettings}


def write(tmp_path, text):
    path = tmp_path / "polynb.yaml"
    path.write_text(text)
    return path


def test_defaults_apply_without_env_or_file(tmp_path):
    settings = Settings(SCHEMA, environ={}, path=None)
    assert settings["demo"].url == "http://default"
    assert settings.core.bind_host == "127.0.0.1"
    assert settings["demo"].section.sources["url"] == "default"


def test_a_section_is_read_through_typed_attributes_named_by_their_keys():
    assert DemoSettings.schema() == (Setting("url", "DEMO_URL", "http://default"),
                                     Setting("token", "DEMO_TOKEN", None, secret=True),
                                     Setting("retries", "DEMO_RETRIES", 3, cast=int, help="how often"))
    demo = DemoSettings.read("demo", {"url": "http://file"}, {"DEMO_RETRIES": "4"})
    assert (demo.name, demo.url, demo.retries, demo.token) == ("demo", "http://file", 4, None)
    assert demo.section.sources == {"url": "polynb.yaml", "token": "default", "retries": "env DEMO_RETRIES"}
    assert isinstance(Settings(SCHEMA, environ={}, path=None).core, CoreSettings)


def test_a_setting_may_not_hide_what_the_section_itself_offers():
    with pytest.raises(TypeError, match="may not be called masked, name, section"):
        type("Clashing", (TypedSection,), {name: Field[str](f"X_{name.upper()}", "") for name in ("name", "masked", "section")})


@pytest.mark.parametrize("text, on", [("true", True), ("True", True), (" YES ", True), ("1", True), ("on", True),
                                      ("false", False), ("0", False), ("", False), ("express:*", False)])
def test_a_switch_is_on_for_true_yes_on_or_1_and_off_for_anything_else(text, on):
    assert flag(text) is on


def test_the_environment_wins_over_the_file_which_wins_over_defaults(tmp_path):
    path = write(tmp_path, "demo:\n  url: http://file\n  retries: 5\ncore:\n  workers: 2\n")
    settings = Settings(SCHEMA, environ={"DEMO_URL": "http://env"}, path=path)
    assert settings["demo"].url == "http://env"
    assert settings["demo"].retries == 5
    assert settings.core.workers == 2


def test_env_values_are_cast_and_a_bad_one_is_a_clear_error():
    assert Settings(SCHEMA, environ={"DEMO_RETRIES": "7"}, path=None)["demo"].retries == 7
    with pytest.raises(ConfigError, match="DEMO_RETRIES='many'"):
        Settings(SCHEMA, environ={"DEMO_RETRIES": "many"}, path=None)


def test_a_secret_in_the_yaml_file_is_refused(tmp_path):
    path = write(tmp_path, "demo:\n  token: s3cret\n")
    with pytest.raises(ConfigError, match="must not hold the secret demo.token"):
        Settings(SCHEMA, environ={}, path=path)


def test_a_secret_comes_from_a_file_named_in_env_or_yaml(tmp_path):
    secret = tmp_path / "token.txt"
    secret.write_text("from-file\n")
    assert Settings(SCHEMA, environ={"DEMO_TOKEN_FILE": str(secret)}, path=None)["demo"].token == "from-file"
    path = write(tmp_path, f"demo:\n  token_file: {secret}\n")
    assert Settings(SCHEMA, environ={}, path=path)["demo"].token == "from-file"


def test_describe_masks_secrets_that_are_set():
    settings = Settings(SCHEMA, environ={"DEMO_TOKEN": "s3cret"}, path=None)
    described = settings.describe()
    assert described["demo"]["token"] == MASK
    assert "s3cret" not in repr(described)
    assert Settings(SCHEMA, environ={}, path=None).describe()["demo"]["token"] is None


def test_unknown_sections_and_keys_are_named(tmp_path):
    with pytest.raises(ConfigError, match="unknown sections: nope"):
        Settings(SCHEMA, environ={}, path=write(tmp_path, "nope: {}\n"))
    with pytest.raises(ConfigError, match="unknown keys: colour"):
        Settings(SCHEMA, environ={}, path=write(tmp_path, "demo:\n  colour: red\n"))


def test_polynb_config_names_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "core:\n  workers: 9\n")
    monkeypatch.setenv("POLYNB_CONFIG", str(path))
    assert Settings(SCHEMA, environ={}).core.workers == 9
    monkeypatch.setenv("POLYNB_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="not a file"):
        Settings(SCHEMA, environ={})


def test_a_file_beside_the_notebook_is_found(tmp_path, monkeypatch):
    write(tmp_path, "core:\n  drain_timeout: 2.5\n")
    monkeypatch.delenv("POLYNB_CONFIG", raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "demo.ipynb"))
    assert Settings(SCHEMA, environ={}).core.drain_timeout == 2.5


def test_a_file_that_holds_secrets_is_the_owners_alone(tmp_path):
    import stat

    from polynb.private import private_file

    loose = tmp_path / "loose.env"
    loose.write_text("export TOKEN=x\n")
    loose.chmod(0o644)
    for path in (private_file(tmp_path / "deep" / "new.sqlite"), private_file(loose)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert loose.read_text() == "export TOKEN=x\n"
