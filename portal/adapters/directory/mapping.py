"""Which attributes mean what, per kind of directory, with the settings' overrides applied."""
from __future__ import annotations

from dataclasses import dataclass

from ...settings.directory import DirectorySettings


@dataclass(frozen=True)
class AttributeMap:
    user_filter: str
    login: tuple[str, ...]           # the first one is the login shown and used for "account name"
    email: str
    alternate_email: str             # "" = none
    mobile: str                      # "" = none
    display_name: str
    language: str                    # "" = none
    extra: tuple[str, ...]
    directory_id: str                # entryUUID / objectGUID

    @property
    def lookup(self) -> tuple[str, ...]:
        """Attributes an identifier typed by a person is matched against."""
        names = [*self.login, self.email, self.alternate_email]
        return tuple(dict.fromkeys(n for n in names if n))

    @property
    def own_names(self) -> tuple[str, ...]:
        """Attributes that hold an account's own names: a name another system vouches for (the
        provider's username claim) is matched against these, never the person-chosen alternate."""
        return tuple(dict.fromkeys(n for n in (*self.login, self.email) if n))

    @property
    def common(self) -> list[str]:
        names = [*self.login, self.email, self.alternate_email, self.mobile, self.display_name,
                 self.language, *self.extra, self.directory_id]
        return list(dict.fromkeys(n for n in names if n))


DEFAULTS = {
    "openldap": {"user_filter": "(objectClass=person)", "login": ("uid",), "directory_id": "entryUUID"},
    "active_directory": {"user_filter": "(&(objectCategory=person)(objectClass=user))",
                         "login": ("sAMAccountName", "userPrincipalName"), "directory_id": "objectGUID"},
}


def attribute_map(settings: DirectorySettings) -> AttributeMap:
    defaults = DEFAULTS[settings.kind]
    return AttributeMap(
        user_filter=settings.user_filter or str(defaults["user_filter"]),
        login=tuple(settings.login_attributes) or tuple(defaults["login"]),
        email=settings.email_attribute,
        alternate_email=settings.alternate_email_attribute,
        mobile=settings.mobile_attribute,
        display_name=settings.display_name_attribute,
        language=settings.language_attribute,
        extra=tuple(settings.extra_attributes),
        directory_id=str(defaults["directory_id"]),
    )
