"""deploy/portal.env.example: systemd's syntax, only names the portal or gunicorn reads, every secret named.

The names count whether assigned or shown commented out (`#PORTAL_SMS__TWILIO__AUTH_TOKEN=`).
"""
from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import typing
from pathlib import Path

import pytest

from portal import PROJECT_ROOT
from portal.settings import SettingsError, load_settings
from portal.settings.engine import secret_paths
from portal.settings.loader import ENV_PREFIX, NOT_SETTINGS
from portal.settings.sections import Settings

EXAMPLE = PROJECT_ROOT / "deploy" / "portal.env.example"
GUNICORN_CONFIG = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"
ASSIGNMENT = re.compile(r"^(?P<commented>#)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")
STAND_IN = "stand-in-for-a-secret-" + "s" * 32  # for the values the example leaves for IT to fill in


def assignments(path: Path = EXAMPLE) -> dict[str, tuple[str, bool]]:
    """name -> (value as systemd reads it, commented out?); any other line must be a comment or blank."""
    found: dict[str, tuple[str, bool]] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = ASSIGNMENT.match(line)
        if match is None:
            assert line == "" or line.startswith("# ") or line == "#", f"{path.name}:{number}: {line!r}"
            continue
        assert match["name"] not in found, f"{path.name}:{number}: {match['name']} twice"
        found[match["name"]] = (unquoted(match["value"]), bool(match["commented"]))
    return found


def unquoted(value: str) -> str:
    """Single quotes as systemd takes them: the text inside, as is; otherwise no quotes or spaces."""
    if value.startswith("'"):
        assert value.endswith("'") and value.count("'") == 2, value
        return value[1:-1]
    assert not any(ch in value for ch in " \"'#$\\"), f"quote this value: {value!r}"
    return value


def setting_exists(dotted: str, cls: type = Settings) -> bool:
    head, _, rest = dotted.partition(".")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if head not in fields:
        return False
    hint = section_type(typing.get_type_hints(cls)[head])
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return bool(rest) and setting_exists(rest, hint)
    return not rest


def section_type(hint: object) -> object:
    """A section that only some configurations need (`OidcSettings | None`) is still that section."""
    present = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return present[0] if len(present) == 1 and typing.get_args(hint) else hint


def dotted(name: str) -> str:
    return ".".join(part.lower() for part in name[len(ENV_PREFIX):].split("__"))


def gunicorn_variables() -> set[str]:
    """Every PORTAL_* name deploy/gunicorn.conf.py mentions (it reads them from the environment)."""
    tree = ast.parse(GUNICORN_CONFIG.read_text())
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(ENV_PREFIX)}


def test_the_file_is_in_systemd_syntax() -> None:
    assert assignments()


def test_every_name_is_read_by_the_portal_or_by_gunicorn() -> None:
    for name in assignments():
        assert name.startswith(ENV_PREFIX), name
        assert name in NOT_SETTINGS or setting_exists(dotted(name)), f"{name} is no setting and not gunicorn's"
    assert NOT_SETTINGS == {"PORTAL_CONFIG"} | gunicorn_variables()


def test_every_secret_and_every_gunicorn_value_is_named() -> None:
    named = {dotted(name) for name in assignments()}
    # a secret of an array of tables ([[webhooks]] secret) comes from the variable its secret_env names
    assert [key for key in secret_paths(Settings) if key not in named and "[]." not in key] == []
    assert gunicorn_variables() <= set(assignments())


def test_the_example_values_are_accepted(tmp_path: Path) -> None:
    """With the blanks filled in, the example (commented lines too) loads beside the example settings file."""
    environ = {name: value or STAND_IN for name, (value, _) in assignments().items()
               if name not in NOT_SETTINGS}
    settings = load_settings(PROJECT_ROOT / "config" / "portal.example.toml", environ)
    assert settings.oidc.client_secret == STAND_IN
    assert settings.rate_limits.storage_uri.startswith("redis://")
    assert settings.sms.webhook.headers == {"Authorization": "Bearer CHANGE-ME"}


def test_each_blank_stops_the_portal_until_filled_in() -> None:
    """Copied and forgotten, the example never runs with a guessable secret: start-up names the blank."""
    active = {name: value for name, (value, commented) in assignments().items()
              if not commented and name not in NOT_SETTINGS}
    blanks = sorted(name for name, value in active.items() if not value)
    assert {"PORTAL_SECRET_KEY", "PORTAL_OIDC__CLIENT_SECRET", "PORTAL_DIRECTORY__BIND_PASSWORD"} <= set(blanks)
    for blank in blanks:
        environ = {name: value or STAND_IN for name, value in active.items()} | {blank: ""}
        with pytest.raises(SettingsError) as refused:
            load_settings(PROJECT_ROOT / "config" / "portal.example.toml", environ)
        assert [p.source for p in refused.value.problems] == [f"environment variable {blank}"]


def test_a_shell_reads_it_as_systemd_does(tmp_path: Path) -> None:
    """The README's `portal-flask` sources the file with sh for one-off commands: same values."""
    uncommented = tmp_path / "portal.env"
    uncommented.write_text("\n".join(line.removeprefix("#") if ASSIGNMENT.match(line) else line
                                     for line in EXAMPLE.read_text().splitlines()) + "\n")
    shell = subprocess.run(["sh", "-c", 'set -a && . "$0" && set +a && env -0', str(uncommented)],
                           capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    exported = dict(entry.split("=", 1) for entry in shell.stdout.split("\0") if entry.startswith(ENV_PREFIX))
    assert exported == {name: value for name, (value, _) in assignments().items()}
