"""Read the settings file once at start-up, apply PORTAL_* environment overrides, validate.

Environment variables exist so secrets never have to live in the file: PORTAL_SECRET_KEY sets
`secret_key`, PORTAL_OIDC__CLIENT_SECRET sets `[oidc] client_secret` (a double underscore
separates the table from the key). Values that are not strings are written as TOML values
(PORTAL_DEMO=true, PORTAL_OIDC__SCOPES='["openid","email"]').
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import helpdesk, mail, passwords, registration, rollout, sms, webhooks
from .checks import host_name
from .engine import Origin, Problem, SettingsError, build
from .sections import COOKIE_PREFIXES, Settings

DEFAULT_PATH = Path("config/portal.toml")
ENV_PREFIX = "PORTAL_"
# Not settings keys: the settings file's path, and the per-server values deploy/gunicorn.conf.py reads
# from the same environment file (they would otherwise stop the portal as unknown keys).
NOT_SETTINGS = {"PORTAL_CONFIG", "PORTAL_BIND", "PORTAL_WORKERS", "PORTAL_THREADS", "PORTAL_ACCESS_LOG"}


def load_settings(path: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Load and validate; raise SettingsError listing every problem."""
    environ = os.environ if environ is None else environ
    file = Path(path or environ.get("PORTAL_CONFIG") or DEFAULT_PATH)
    problems: list[Problem] = []
    data = _read_toml(file, problems)
    env_keys = _apply_environment(data, environ, problems)
    webhooks.read_secrets(data, environ, str(file), problems)

    def origin(key: str) -> str:
        return env_keys.get(key, str(file))

    settings = build(Settings, data, "", origin, problems) if not problems else None
    if settings is not None:
        problems.extend(_cross_checks(settings, origin))
    if problems or settings is None:
        raise SettingsError(problems)
    return settings


def _read_toml(file: Path, problems: list[Problem]) -> dict[str, Any]:
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        problems.append(Problem(str(file), "(file)", "not found; copy config/portal.example.toml "
                                                     "or set PORTAL_CONFIG to the settings file"))
    except tomllib.TOMLDecodeError as error:
        problems.append(Problem(str(file), "(file)", f"is not valid TOML: {error}"))
    except OSError as error:
        problems.append(Problem(str(file), "(file)", f"cannot be read: {error.strerror}"))
    return {}


def _apply_environment(data: dict[str, Any], environ: Mapping[str, str],
                       problems: list[Problem]) -> dict[str, str]:
    """Write PORTAL_* variables into `data`; return dotted key -> variable name for messages."""
    origins: dict[str, str] = {}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__")]
        key = ".".join(path)
        origins[key] = f"environment variable {name}"
        table = data
        for part in path[:-1]:
            nested = table.setdefault(part, {})
            if not isinstance(nested, dict):
                problems.append(Problem(origins[key], key, f"{part} is not a table"))
                break
            table = nested
        else:
            table[path[-1]] = _parse_env_value(environ[name], table.get(path[-1]))
    return origins


def _parse_env_value(raw: str, current: Any) -> Any:
    """Strings stay as typed; anything that reads as a TOML value becomes that value."""
    if isinstance(current, str):
        return raw
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw


def _required_tables(settings: Settings) -> list[tuple[str, str]]:
    """[directory] and [oidc] are required only by what uses them: link mode needs neither.

    Every built-in action reads and writes the directory; registration signs people in; /admin
    signs administrators in and reads the directory (rollout scope, campaigns, reports)."""
    missing: list[tuple[str, str]] = []
    builtin = sorted(settings.builtin_actions)
    admin = "[admin] groups is set (administrators sign in; campaigns and reports read the directory)"
    if settings.directory is None and settings.serves_accounts:
        verb = "is" if len(builtin) == 1 else "are"
        why = f"[actions] {', '.join(builtin)} {verb} \"builtin\"" if builtin else admin
        missing.append(("directory", f"is required because {why}; set every action to a URL for a pure link page"))
    if settings.oidc is None and ("register" in builtin or settings.admin.groups or settings.helpdesk.groups):
        why = ("[actions] register is \"builtin\" (people sign in to register)" if "register" in builtin
               else admin if settings.admin.groups else "[helpdesk] groups is set (agents sign in)")
        missing.append(("oidc", f"is required because {why}"))
    return missing


def _cross_checks(settings: Settings, origin: Origin) -> list[Problem]:
    """Rules that span keys, so a combination that is unsafe never starts."""
    problems: list[Problem] = []

    def add(key: str, message: str) -> None:
        problems.append(Problem(origin(key), key, message))

    if not settings.demo and len(settings.secret_key) < 32:
        add("secret_key", "is required outside the demo: at least 32 random characters "
                          "(set PORTAL_SECRET_KEY; generate with: python -c 'import secrets; "
                          "print(secrets.token_urlsafe(48))')")
    if settings.session.idle_minutes > settings.session.absolute_minutes:
        add("session.idle_minutes", "must not be longer than session.absolute_minutes")
    if (settings.session.cookie_name or "").startswith(COOKIE_PREFIXES) and not settings.https:
        add("session.cookie_name", f"a {' or '.join(COOKIE_PREFIXES)} name needs an https:// base_url "
                                   "(browsers accept such a cookie only with Secure)")
    directory = settings.directory
    if directory and urlsplit(directory.url).scheme == "ldap" and not directory.start_tls and not directory.allow_plaintext:
        add("directory.url", "is plain ldap:// without start_tls; use ldaps:// or start_tls = true "
                             "(allow_plaintext = true only for a local test directory)")
    sms_timeout = max(settings.sms.webhook.timeout_seconds, settings.sms.twilio.timeout_seconds)
    for key, message in (_required_tables(settings) + registration.cross_checks(settings.registration)
                         + sms.cross_checks(settings.sms) + mail.cross_checks(settings.mail, settings.outbox, sms_timeout)
                         + rollout.cross_checks(settings.rollout) + passwords.cross_checks(settings.passwords)
                         + settings.i18n.cross_checks()
                         + helpdesk.cross_checks(settings.helpdesk, builtin_reset="reset" in settings.builtin_actions,
                                                 mail_configured=settings.mail.configured)):
        add(key, message)
    for host, served in settings.hosts.items():
        problem = _host_problem(settings.base_url, host, served.base_url)
        if problem:
            add(*problem)
    return problems


def _host_problem(base_url: str, host: str, host_base_url: str) -> tuple[str, str] | None:
    """The key and sentence of what is wrong with a [hosts] entry, if anything. Its base_url must be
    base_url with another host name (and port, if need be): the provider sends people back to it,
    and one portal, at one path with one session cookie, answers on every host."""
    main, own = urlsplit(base_url), urlsplit(host_base_url)
    refused = host_name(host)
    if refused or host == main.hostname:
        return f"hosts.{host}", refused or "is base_url's own host name, served with `theme`: remove it here"
    key = f"hosts.{host}.base_url"
    if own.hostname != host:
        return key, f"must be an address on {host} itself, e.g. {main.scheme}://{host}{main.path} (got {host_base_url!r})"
    if own.scheme != main.scheme:
        return key, (f"must use {main.scheme}:// like base_url: the session cookie (its name and Secure flag) "
                     f"is the same on every host (got {host_base_url!r})")
    if own.path.rstrip("/") != main.path.rstrip("/"):
        return key, f"must have base_url's path {main.path or '/'!r}: the portal answers at one path (got {host_base_url!r})"
    return None
