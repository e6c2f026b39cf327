"""The portal's settings schema: one frozen dataclass per TOML table.

Every key is documented in config/portal.example.toml; the checks here are what stops a
wrong value at start-up instead of at the first request that needs it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from . import checks
from .admin import AdminSettings
from .directory import DirectorySettings
from .engine import setting
from .helpdesk import HelpdeskSettings
from .languages import LanguageSettings
from .mail import MailSettings, OutboxSettings
from .mailings import CampaignSettings, ExpiryReminderSettings
from .passwords import PasswordSettings
from .registration import CodeSettings, RegistrationSettings
from .reset import ChangeSettings, NotificationSettings, ResetSettings
from .rollout import RolloutSettings
from .sms import SmsSettings
from .webhooks import WebhookEndpoint

ACTION_BUILTIN = "builtin"
ACTION_KEYS = ("reset", "register", "change")
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


def _action(v: str) -> str | None:
    if v == ACTION_BUILTIN:
        return None
    message = checks.web_url(v)
    return None if message is None else f"must be \"builtin\" or an absolute https:// URL (got {v!r})"


@dataclass(frozen=True, kw_only=True)
class ClaimSettings:
    username: str = setting("preferred_username", check=checks.non_empty)
    email: str = setting("email", check=checks.non_empty)
    display_name: str = setting("name", check=checks.non_empty)
    groups: str = setting("groups", check=checks.non_empty)


@dataclass(frozen=True, kw_only=True)
class OidcSettings:
    issuer: str = setting(check=checks.web_url)
    client_id: str = setting(check=checks.non_empty)
    client_secret: str = setting(check=checks.non_empty, secret=True)
    scopes: list[str] = setting(["openid", "email", "profile"],
                                check=lambda v: None if "openid" in v else "must include \"openid\"")
    id_token_algorithms: list[str] = setting(["RS256"], check=lambda v: checks.non_empty(v)
                                             or checks.each(checks.one_of(ID_TOKEN_ALGORITHMS))(v))
    clock_skew_seconds: int = setting(60, check=checks.between(0, 300))
    timeout_seconds: int = setting(10, check=checks.between(1, 60))
    claims: ClaimSettings = setting(ClaimSettings)


SESSION_COOKIE = "portal_session"
HOST_PREFIX = "__Host-"  # only this origin, over https, Path=/ and no Domain, can set the cookie
COOKIE_PREFIXES = (HOST_PREFIX, "__Secure-")


def _cookie_name(v: str) -> str | None:
    bare = next((v[len(prefix):] for prefix in COOKIE_PREFIXES if v.startswith(prefix)), v)
    if checks.simple_name(bare) is None:
        return None
    return f"must be letters a-z, digits, - and _, optionally after {' or '.join(COOKIE_PREFIXES)} (got {v!r})"


@dataclass(frozen=True, kw_only=True)
class SessionSettings:
    idle_minutes: int = setting(30, check=checks.between(1, 24 * 60))
    absolute_minutes: int = setting(8 * 60, check=checks.between(5, 7 * 24 * 60))
    # unset: __Host-portal_session on https, portal_session on http (see Settings.session_cookie_name)
    cookie_name: str | None = setting(None, check=_cookie_name)


@dataclass(frozen=True, kw_only=True)
class ActionSettings:
    reset: str = setting(ACTION_BUILTIN, check=_action)
    register: str = setting(ACTION_BUILTIN, check=_action)
    change: str = setting(ACTION_BUILTIN, check=_action)


def _database_url(v: str) -> str | None:
    if v.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
        return None
    return f"must start with sqlite:/// or postgresql:// (got {v.split('://')[0]}://...)"


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    url: str = setting("sqlite:///instance/portal.db", check=_database_url, secret=True)


def _storage_uri(v: str) -> str | None:
    if v == "memory://" or v.startswith(("redis://", "rediss://")):
        return None
    return "must be memory:// (one process only) or a redis:// or rediss:// URL"


@dataclass(frozen=True, kw_only=True)
class RateLimitSettings:
    storage_uri: str = setting("memory://", check=_storage_uri, secret=True)
    # in Redis only: every counter's key starts with it (several portals, or tests, on one Redis)
    key_prefix: str = setting("portal", check=checks.simple_name)


def _secret_key(v: str) -> str | None:
    return None if len(v) >= 32 else "must be at least 32 random characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')"


@dataclass(frozen=True, kw_only=True)
class HostSettings:
    """One host name the portal serves: its theme, and the address its people use. Links in
    mails and the sign-in callback of a request to this host are built from `base_url`, so a
    person signs in and comes back on the host they started on (loader.py checks it names it)."""

    theme: str = setting(check=checks.simple_name)
    base_url: str = setting(check=checks.base_url)


def bare_host(host: str) -> str:
    """A Host header's (or URL's) host name, port dropped, lower case; IPv6 literals keep brackets."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.lower()


@dataclass(frozen=True, kw_only=True)
class Settings:
    base_url: str = setting(check=checks.base_url)
    secret_key: str = setting("", secret=True)
    demo: bool = setting(False)
    theme: str = setting("default", check=checks.simple_name)
    branding_dir: str = setting("branding", check=checks.non_empty)
    hosts: dict[str, HostSettings] = setting({})
    trusted_proxies: int = setting(0, check=checks.between(0, 5))
    max_content_length: int = setting(64 * 1024, check=checks.between(4 * 1024, 10 * 1024 * 1024))
    log_level: str = setting("INFO", check=checks.one_of(("DEBUG", "INFO", "WARNING", "ERROR")))
    session: SessionSettings = setting(SessionSettings)
    # None when absent: only the built-in actions and /admin need them (settings/needs.py says which)
    oidc: OidcSettings | None = setting(None)
    actions: ActionSettings = setting(ActionSettings)
    database: DatabaseSettings = setting(DatabaseSettings)
    rate_limits: RateLimitSettings = setting(RateLimitSettings)
    directory: DirectorySettings | None = setting(None)
    registration: RegistrationSettings = setting(RegistrationSettings)
    codes: CodeSettings = setting(CodeSettings)
    mail: MailSettings = setting(MailSettings)
    outbox: OutboxSettings = setting(OutboxSettings)
    sms: SmsSettings = setting(SmsSettings)
    rollout: RolloutSettings = setting(RolloutSettings)
    passwords: PasswordSettings = setting(PasswordSettings)
    reset: ResetSettings = setting(ResetSettings)
    change: ChangeSettings = setting(ChangeSettings)
    notifications: NotificationSettings = setting(NotificationSettings)
    admin: AdminSettings = setting(AdminSettings)
    helpdesk: HelpdeskSettings = setting(HelpdeskSettings)
    campaigns: CampaignSettings = setting(CampaignSettings)
    expiry_reminders: ExpiryReminderSettings = setting(ExpiryReminderSettings)
    webhooks: list[WebhookEndpoint] = setting([])
    i18n: LanguageSettings = setting(LanguageSettings)

    @property
    def builtin_actions(self) -> frozenset[str]:
        """The actions the portal runs itself; the others are links to another site (link mode)."""
        return frozenset(key for key in ACTION_KEYS if getattr(self.actions, key) == ACTION_BUILTIN)

    @property
    def serves_accounts(self) -> bool:
        """Whether anything here reads accounts: a built-in action, /admin or /helpdesk. Without any, the
        portal is a pure link page, and [directory] and [oidc] are neither needed nor used."""
        return bool(self.builtin_actions or self.admin.groups or self.helpdesk.groups)

    @cached_property
    def served_hosts(self) -> dict[str, HostSettings]:
        """Every host name served, base_url's own (with `theme`) first, then those in [hosts]."""
        own = urlsplit(self.base_url).hostname or ""
        return {own: HostSettings(theme=self.theme, base_url=self.base_url), **self.hosts}

    def host(self, host: str) -> HostSettings | None:
        """What a request's Host header (port ignored) is served as; None for a host name not served.

        The header only chooses among the configured hosts: every URL comes from their base_url."""
        return self.served_hosts.get(bare_host(host))

    def theme_base_url(self, theme: str) -> str:
        """The base URL of the first host served in `theme` (base_url's own first), else base_url:
        where mails sent outside a request (campaigns) in that theme link to."""
        return next((served.base_url for served in self.served_hosts.values() if served.theme == theme),
                    self.base_url)

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def session_cookie_name(self) -> str:
        """The configured name, else one with the __Host- prefix wherever browsers accept it (https)."""
        if self.session.cookie_name:
            return self.session.cookie_name
        return HOST_PREFIX + SESSION_COOKIE if self.https else SESSION_COOKIE
