"""pytest plugin: the real dev stack on the TEST ports, started once per test session.

tests/conftest.py loads it with `pytest_plugins = ("devstack.fixtures",)`. Servers start lazily:
a test run that needs no directory starts no slapd. The TEST ports differ from the demo's, so the
suite runs while `make demo` is up.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.mailsink import MailSink
from devstack.oidc_provider import OidcProvider, active_directory_accounts, openldap_accounts
from devstack.ports import TEST
from devstack.samba import SambaDC
from devstack.slapd import Slapd

# A second issuer for "token from the wrong provider" tests, and one reading Active Directory; not
# in ports.py because only tests use them.
FOREIGN_ISSUER_PORT = TEST.oidc + 1
AD_ISSUER_PORT = TEST.oidc + 2


@pytest.fixture(scope="session")
def stack_dir() -> Iterator[Path]:
    """Short on purpose: slapd's ldapi socket path must stay under 107 bytes (pytest's tmp_path is deep)."""
    path = Path(f"/tmp/pp-test-{os.getpid()}")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def slapd(stack_dir: Path) -> Iterator[Slapd]:
    with Slapd(TEST, stack_dir / "slapd") as server:
        yield server


@pytest.fixture(scope="session")
def samba(stack_dir: Path) -> Iterator[SambaDC]:
    """A real Active Directory (Samba AD DC), copied from the provisioned cache: about a second."""
    with SambaDC(TEST.samba_address, stack_dir / "samba") as dc:
        yield dc


@pytest.fixture(scope="session")
def oidc_provider(stack_dir: Path, slapd: Slapd) -> Iterator[OidcProvider]:
    with OidcProvider(TEST.oidc, stack_dir / "oidc", openldap_accounts(slapd.url)) as provider:
        yield provider


@pytest.fixture(scope="session")
def foreign_oidc_provider(stack_dir: Path, slapd: Slapd,
                          oidc_provider: OidcProvider) -> Iterator[OidcProvider]:
    """Another issuer signing with the SAME key and kid: only the `iss` check can reject its tokens."""
    with OidcProvider(FOREIGN_ISSUER_PORT, stack_dir / "oidc-foreign", openldap_accounts(slapd.url),
                      keys_file=oidc_provider.keys_file) as provider:
        yield provider


@pytest.fixture(scope="session")
def ad_oidc_provider(stack_dir: Path, samba: SambaDC) -> Iterator[OidcProvider]:
    """The provider as `make demo DIRECTORY=ad` runs it: people from the Samba DC, over LDAPS."""
    with OidcProvider(AD_ISSUER_PORT, stack_dir / "oidc-ad", active_directory_accounts(samba)) as provider:
        yield provider


@pytest.fixture(scope="session")
def mail_sink(stack_dir: Path) -> Iterator[MailSink]:
    with MailSink(TEST.smtp, stack_dir / "mail") as sink:
        yield sink


@pytest.fixture
def mailbox(mail_sink: MailSink) -> MailSink:
    """The mail sink, emptied for this test so it sees only its own messages."""
    mail_sink.clear()
    return mail_sink
