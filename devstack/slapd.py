"""OpenLDAP slapd for the demo and the tests: generated config, user space, seeded demo organization.

slapd runs from Debian's package as an ordinary child process with a slapd.conf we write: mdb,
ppolicy (lockout on, cleartext hashed), memberof and refint, plain LDAP and StartTLS (our own CA)
on 127.0.0.1:<ports.ldap>, plus an ldapi socket that only this instance owns, so readiness and
test setup never talk to another slapd that happens to hold the port.

The demo organization (devstack/people.py) is loaded with `ldapadd` against the RUNNING server:
an offline slapadd would skip the overlays (no memberOf, passwords stored in clear).
The portal's account is svc-portal, an ordinary entry held to its own policy (lockout off) with
just the rights the portal needs; the rootdn exists for test setup only.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from devstack import ldif
from devstack.people import BASE_DN, GROUPS, GROUPS_OU, MAIL_DOMAIN, PEOPLE, PEOPLE_OU, SERVICE, SERVICES_OU, Person
from devstack.ports import Ports
from devstack.process import ManagedProcess
from devstack.restartable import RestartableServer

SLAPD = "/usr/sbin/slapd"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis", "misc")  # misc: mailLocalAddress (alternate mail)
POLICIES_OU = f"ou=policies,{BASE_DN}"
PEOPLE_POLICY_DN = f"cn=people,{POLICIES_OU}"
SERVICE_POLICY_DN = f"cn=service,{POLICIES_OU}"
# A policy with a minimum password age, for "changed too recently": the default one has none,
# because a fresh entry must be changeable at once.
MIN_AGE_POLICY_DN = f"cn=min-age,{POLICIES_OU}"
# ppolicy's value for "locked until an administrator unlocks it": the portal treats it as disabled.
DISABLED_LOCK_TIME = "000001010000Z"
MAX_SOCKET_PATH = 100  # slapd crashes on an ldapi path longer than 107 bytes

# The people policy, as numbers tests and docs can refer to.
MIN_LENGTH = 8
HISTORY = 3
MAX_FAILURES = 3
MAX_AGE_SECONDS = 90 * 24 * 3600
EXPIRE_WARNING_SECONDS = 14 * 24 * 3600


def mail_address(person: Person) -> str:
    """`mail` is an IA5 (ASCII) string in OpenLDAP's schema: a login such as "straße" gets its
    UTF-8 bytes in hex as the mailbox, so look-alike logins still get distinct addresses."""
    return person.email if person.email.isascii() else f"u-{person.username.encode().hex()}@{MAIL_DOMAIN}"


def person_attributes(person: Person) -> dict[str, ldif.Values]:
    attributes: dict[str, ldif.Values] = {
        "objectClass": ["inetOrgPerson", "inetLocalMailRecipient"],
        "uid": person.username, "cn": person.display_name, "sn": person.surname,
        "givenName": person.given_name, "displayName": person.display_name,
        "mail": mail_address(person), "userPassword": person.password,
    }
    if person.mobile:
        attributes["mobile"] = person.mobile
    if person.other_mail:
        attributes["mailLocalAddress"] = person.other_mail
    return attributes


class Slapd(RestartableServer):
    """A seeded slapd on 127.0.0.1:<ports.ldap>; a context manager that starts and stops it."""

    def __init__(self, ports: Ports, workdir: Path) -> None:
        self.port = ports.ldap
        self.url = ports.ldap_url
        self.workdir = workdir
        self.base_dn = BASE_DN
        self.people_dn = PEOPLE_OU
        self.groups_dn = GROUPS_OU
        self.service_dn = f"uid={SERVICE.username},{SERVICES_OU}"
        self.service_password = SERVICE.password
        self.admin_dn = f"cn=admin,{BASE_DN}"
        self.admin_password = secrets.token_urlsafe(24)
        self.ca_file = workdir / "tls" / "ca.pem"
        self.tls_name = "localhost"  # the certificate's DNS name; it also carries IP 127.0.0.1
        self.config_file = workdir / "slapd.conf"
        self._socket_dir: Path | None = None
        self.process: ManagedProcess | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def create(self) -> None:
        """Fresh database, config and TLS files; start; load the demo organization."""
        self._prepare()
        self.start()
        self.apply(ldif.document(self._seed_records()))

    def _prepare(self) -> None:
        """An empty database folder, the config and the TLS files (nothing started)."""
        shutil.rmtree(self.workdir / "data", ignore_errors=True)
        (self.workdir / "data").mkdir(parents=True)
        self._socket_dir = self._short_socket_dir()
        self._write_tls()
        self.config_file.write_text(self._config())
        self.config_file.chmod(0o600)

    def destroy(self) -> None:
        self.stop()
        if self._socket_dir is not None and self._socket_dir != self.workdir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    def start(self) -> None:
        """Start on the existing database (also after `stop()`: the data survives a restart)."""
        self.socket_path.unlink(missing_ok=True)
        self.process = ManagedProcess(
            f"slapd {self.url}",
            [SLAPD, "-d", "stats", "-f", str(self.config_file),
             "-h", f"{self.url}/ {self.ldapi_url}"],
            self.workdir / "slapd.log", self._answers, ready_timeout=15)
        self.process.start()

    # -- test and demo helpers ---------------------------------------------------------------

    @property
    def socket_path(self) -> Path:
        assert self._socket_dir is not None, "create() first"
        return self._socket_dir / "ldapi"

    @property
    def ldapi_url(self) -> str:
        return "ldapi://" + quote(str(self.socket_path), safe="")

    def apply(self, text: str) -> None:
        """Run LDIF (adds and modify records) as the rootdn through our own socket."""
        result = subprocess.run(
            ["ldapmodify", "-a", "-x", "-H", self.ldapi_url, "-D", self.admin_dn, "-y",
             str(self._admin_password_file())],
            input=text.encode(), capture_output=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"ldapmodify failed ({result.returncode}): "
                               f"{result.stderr.decode(errors='replace').strip()}")

    def person_dn(self, username: str) -> str:
        return f"uid={ldif.escape_rdn_value(username)},{PEOPLE_OU}"

    def add_person(self, username: str, password: str, *, groups: tuple[str, ...] = (),
                   policy_dn: str | None = None, cn: str | None = None, **extra: ldif.Values) -> str:
        """Add a person (like the demo people, plus `extra` attributes); return the DN.

        The DN is `uid=<username>` or, given `cn`, `cn=<cn>`: slapd refuses a second `uid=` RDN
        its matching holds equal to an existing one ("ǅemal" and "džemal"), a `cn=` DN lets
        both exist."""
        person = Person(username, "Test", f"User {username}", password, groups)
        attributes = {**person_attributes(person), **({"cn": cn} if cn else {}), **extra}
        if policy_dn:
            attributes["pwdPolicySubentry"] = policy_dn
        dn = f"cn={ldif.escape_rdn_value(cn)},{PEOPLE_OU}" if cn else self.person_dn(username)
        records = [ldif.entry(dn, attributes)]
        records += [ldif.modify(f"cn={group},{GROUPS_OU}", add={"member": dn}) for group in groups]
        self.apply(ldif.document(records))
        return dn

    def modify(self, dn: str, *, replace: Mapping[str, ldif.Values] | None = None,
               delete: tuple[str, ...] = ()) -> None:
        self.apply(ldif.modify(dn, replace=replace, delete=delete))

    def binds(self, dn: str, password: str) -> bool:
        """Whether a simple bind with this password works, checked with the OpenLDAP client tools
        (independent of the portal's own LDAP code). An empty password is never tried."""
        if not password:
            return False
        result = subprocess.run(["ldapwhoami", "-x", "-H", self.url, "-D", dn, "-y", "/dev/stdin"],
                                input=password.encode(), capture_output=True, timeout=30)
        return result.returncode == 0

    def lock(self, dn: str) -> None:
        """Lock as ppolicy does after too many failures."""
        now = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%SZ")
        self.modify(dn, replace={"pwdAccountLockedTime": now})

    def disable(self, dn: str) -> None:
        self.modify(dn, replace={"pwdAccountLockedTime": DISABLED_LOCK_TIME})

    # -- internals ---------------------------------------------------------------------------

    def _short_socket_dir(self) -> Path:
        if len(str(self.workdir / "ldapi")) <= MAX_SOCKET_PATH:
            return self.workdir
        return Path(tempfile.mkdtemp(prefix="slapd-", dir="/tmp"))

    def _answers(self) -> bool:
        """Ready when OUR socket accepts a connection (the TCP port may belong to another slapd)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1)
            probe.connect(str(self.socket_path))
        return True

    def _admin_password_file(self) -> Path:
        path = self.workdir / "admin.pw"
        if not path.exists() or path.read_text() != self.admin_password:
            path.touch(mode=0o600)
            path.write_text(self.admin_password)
        return path

    def _write_tls(self) -> None:
        """A throwaway CA and a server certificate for localhost / 127.0.0.1 (kept between runs)."""
        tls = self.ca_file.parent
        if (tls / "server.pem").exists():
            return
        tls.mkdir(parents=True, exist_ok=True)

        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tls, timeout=30)

        for key in ("ca.key", "server.key"):
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
            os.chmod(tls / key, 0o600)
        openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Password portal dev CA",
                "-days", "3650", "-out", "ca.pem")
        openssl("req", "-new", "-key", "server.key", "-subj", f"/CN={self.tls_name}", "-out", "server.csr")
        (tls / "ext.cnf").write_text(f"subjectAltName=DNS:{self.tls_name},IP:127.0.0.1\n"
                                     "extendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "3650", "-extfile", "ext.cnf", "-out", "server.pem")

    def _config(self) -> str:
        schemas = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
        tls = self.ca_file.parent
        svc = self.service_dn
        return f"""# Generated by devstack/slapd.py; rewritten on every start.
{schemas}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
moduleload memberof
moduleload refint
pidfile {self.workdir}/slapd.pid
argsfile {self.workdir}/slapd.args
TLSCACertificateFile {tls}/ca.pem
TLSCertificateFile {tls}/server.pem
TLSCertificateKeyFile {tls}/server.key

database mdb
maxsize 67108864
suffix "{BASE_DN}"
rootdn "{self.admin_dn}"
rootpw "{self.admin_password}"
directory {self.workdir}/data
# Audiences, reports and expiry reminders page through everyone: no total size limit for the portal.
limits dn.exact="{svc}" size.prtotal=unlimited
index objectClass eq
# every step after the first reads the account again by entryUUID (the key that survives renames)
index entryUUID eq
index uid,mail,cn eq,sub
index mailLocalAddress eq
index member,memberOf eq

overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE

overlay refint
refint_attributes member

overlay ppolicy
ppolicy_default "{PEOPLE_POLICY_DN}"
ppolicy_use_lockout
ppolicy_hash_cleartext

# The portal's account resets passwords held to the policy (=wx, not manage), unlocks, and sets
# pwdReset (must change at next sign-in) after a help desk's temporary password.
access to attrs=userPassword
  by dn.exact="{svc}" =wx
  by self =wx
  by anonymous auth
  by * none
access to attrs=pwdAccountLockedTime,pwdFailureTime,pwdReset
  by dn.exact="{svc}" write
  by self read
  by * none
access to *
  by dn.exact="{svc}" read
  by self read
  by * none
"""

    def _seed_records(self) -> list[str]:
        people_policy = {
            "objectClass": ["device", "pwdPolicy"], "cn": "people", "pwdAttribute": "userPassword",
            "pwdMinLength": str(MIN_LENGTH), "pwdCheckQuality": "2", "pwdInHistory": str(HISTORY),
            "pwdLockout": "TRUE", "pwdMaxFailure": str(MAX_FAILURES), "pwdLockoutDuration": "900",
            "pwdFailureCountInterval": "900", "pwdMaxAge": str(MAX_AGE_SECONDS),
            "pwdExpireWarning": str(EXPIRE_WARNING_SECONDS), "pwdMinAge": "0",
            "pwdGraceAuthNLimit": "0", "pwdAllowUserChange": "TRUE", "pwdMustChange": "FALSE",
        }
        records = [
            ldif.entry(BASE_DN, {"objectClass": ["dcObject", "organization"], "dc": "example",
                                 "o": "Example Organization"}),
            *(ldif.entry(dn, {"objectClass": "organizationalUnit", "ou": dn.split(",")[0][3:]})
              for dn in (POLICIES_OU, PEOPLE_OU, GROUPS_OU, SERVICES_OU)),
            ldif.entry(PEOPLE_POLICY_DN, people_policy),
            ldif.entry(MIN_AGE_POLICY_DN, {**people_policy, "cn": "min-age", "pwdMinAge": "3600"}),
            ldif.entry(SERVICE_POLICY_DN, {
                "objectClass": ["device", "pwdPolicy"], "cn": "service", "pwdAttribute": "userPassword",
                "pwdLockout": "FALSE", "pwdMaxAge": "0", "pwdCheckQuality": "0"}),
            ldif.entry(self.service_dn, {
                "objectClass": ["account", "simpleSecurityObject"], "uid": SERVICE.username,
                "description": "The password portal's service account",
                "userPassword": SERVICE.password, "pwdPolicySubentry": SERVICE_POLICY_DN}),
        ]
        records += [ldif.entry(self.person_dn(p.username), person_attributes(p)) for p in PEOPLE]
        for group in GROUPS:
            members = [self.person_dn(p.username) for p in PEOPLE if group in p.groups]
            records.append(ldif.entry(f"cn={group},{GROUPS_OU}",
                                      {"objectClass": "groupOfNames", "cn": group, "member": members}))
        return records

