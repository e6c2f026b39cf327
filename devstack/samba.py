"""A real Active Directory for the demo and the tests: Samba's AD domain controller, in user space.

Realm EXAMPLE.TEST (NetBIOS domain EXAMPLE), base DN DC=example,DC=test, LDAP only
(`server services = ldap`) on <address>:389 (StartTLS) and :636 (LDAPS); Samba hard-codes those
ports, so each DC gets its own loopback address (ports.samba_address).

Provisioning takes seconds, so it happens once into a cache folder (.devstack/cache/, keyed by
this file and devstack/people.py: change either and the next run provisions afresh). Each run
copies that tree into its work folder and rewrites the absolute paths in smb.conf: a start then
costs about a second.

The domain holds the demo people (OU=People, plus people.AD_ONLY_PEOPLE), their groups (OU=Groups)
with NESTED cases (Erin is in portal-admins only through it-admins, Carol in the pilot group only
through service-desk), a group to protect (protected-accounts: Frank), and the portal's account
svc-portal (OU=Services) with
exactly the delegated rights the portal needs on OU=People: Reset Password, and read/write of
lockoutTime and pwdLastSet; plus read on the fine-grained password policies (PSOs). Domain policy: complexity on, minimum length 8, history 3, minimum age
0, lockout after 3 failures. svc-portal has its own fine-grained policy without lockout, so failing
tests cannot lock it out; members of the group `min-age-policy` get one with a minimum age of a day.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path

import ldap3

from devstack import ldif, people
from devstack.process import ManagedProcess, ServerFailed
from devstack.restartable import RestartableServer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO / ".devstack" / "cache"
REALM = "EXAMPLE.TEST"
DOMAIN = "EXAMPLE"
BASE_DN = "DC=example,DC=test"
PEOPLE_OU = f"OU=People,{BASE_DN}"
GROUPS_OU = f"OU=Groups,{BASE_DN}"
SERVICES_OU = f"OU=Services,{BASE_DN}"
PSO_CONTAINER = f"CN=Password Settings Container,CN=System,{BASE_DN}"
TLS_NAME = "DC1.example.test"  # the generated certificate's CN (it has no subjectAltName)
# Fixed because the cached tree carries it; only test setup uses it, the DC listens on loopback only.
ADMIN_PASSWORD = "Adm1n.Dev.Stack!"
NESTED_GROUP = "it-admins"  # member of portal-admins; Erin is a member of it, not of portal-admins
SERVICE_DESK_GROUP = "service-desk"  # member of the pilot group; Carol is in the pilot only through it
# A person's membership that goes through another group: (login, group) -> the group in between.
THROUGH: dict[tuple[str, str], str] = {("erin", people.ADMIN_GROUP): NESTED_GROUP,
                                       ("carol", people.PILOT_GROUP): SERVICE_DESK_GROUP}
DEMO_PEOPLE = (*people.PEOPLE, *people.AD_ONLY_PEOPLE)
MIN_AGE_GROUP = "min-age-policy"

MIN_LENGTH = 8
HISTORY = 3
LOCKOUT_THRESHOLD = 3

# Rights for the portal's account on OU=People, inherited by user objects only (CIIO + user class):
# the Reset Password control access right, and read/write of lockoutTime and pwdLastSet.
USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"
RESET_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"
LOCKOUT_TIME = "28630ebf-41d5-11d1-a9c1-0000f80367c1"
PWD_LAST_SET = "bf967a0a-0de6-11d0-a285-00aa003049e2"

UAC_NORMAL = 0x200
UAC_DISABLED = 0x2


def _recipe_key() -> str:
    """Changes to the provisioning recipe or the demo people invalidate the cached tree."""
    digest = hashlib.sha256()
    for source in (Path(__file__), Path(people.__file__)):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def unicode_pwd(password: str) -> bytes:
    return f'"{password}"'.encode("utf-16-le")


def _skip_sockets(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if stat.S_ISSOCK(os.lstat(os.path.join(folder, n)).st_mode)]


class SambaDC(RestartableServer):
    """A Samba AD DC on <address>:389/636; a context manager that starts and stops it."""

    def __init__(self, address: str, workdir: Path, cache: Path = DEFAULT_CACHE,
                 max_runtime_seconds: int = 24 * 3600) -> None:
        self.address = address
        self.workdir = workdir
        self.cache = cache
        self.max_runtime_seconds = max_runtime_seconds
        self.url = f"ldaps://{address}"
        self.start_tls_url = f"ldap://{address}"
        self.realm = REALM
        self.domain = DOMAIN
        self.base_dn = BASE_DN
        self.people_dn = PEOPLE_OU
        self.groups_dn = GROUPS_OU
        self.service_dn = f"CN={people.SERVICE.username},{SERVICES_OU}"
        self.service_password = people.SERVICE.password
        self.admin_dn = f"CN=Administrator,CN=Users,{BASE_DN}"
        self.admin_password = ADMIN_PASSWORD
        self.tls_name = TLS_NAME
        self.process: ManagedProcess | None = None

    @property
    def ca_file(self) -> Path:
        return self.workdir / "private" / "tls" / "ca.pem"

    @property
    def smb_conf(self) -> Path:
        return self.workdir / "etc" / "smb.conf"

    # -- lifecycle ---------------------------------------------------------------------------

    def create(self) -> None:
        """A fresh copy of the provisioned domain in `workdir`, started."""
        template = self._template()
        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.copytree(template, self.workdir, ignore=_skip_sockets, symlinks=True)
        _configure(self.smb_conf, template, self.workdir, self.address)
        _make_runtime_folders(self.workdir)
        self.start()

    def start(self) -> None:
        """Start on the existing database (also after `stop()`: the data survives a restart)."""
        self.process = ManagedProcess(
            f"samba {self.address}",
            ["samba", "-s", str(self.smb_conf), "-i", "-M", "single",
             f"--maximum-runtime={self.max_runtime_seconds}"],
            self.workdir / "samba.log", self._answers, ready_timeout=60)
        self.process.start()

    # -- test and demo helpers ---------------------------------------------------------------

    def tls(self) -> ldap3.Tls:
        return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_file),
                         valid_names=[self.tls_name])

    def connect(self, user: str | None = None, password: str | None = None) -> ldap3.Connection:
        """A bound LDAPS connection, as the domain's Administrator unless told otherwise."""
        server = ldap3.Server(self.url, use_ssl=True, tls=self.tls(), connect_timeout=5)
        return ldap3.Connection(server, user or self.admin_dn, password or self.admin_password,
                                auto_bind=True, receive_timeout=15, raise_exceptions=True)

    def person_dn(self, cn: str) -> str:
        return f"CN={ldif.escape_rdn_value(cn)},{PEOPLE_OU}"

    def group_dn(self, name: str) -> str:
        return f"CN={ldif.escape_rdn_value(name)},{GROUPS_OU}"

    def add_person(self, username: str, password: str, *, groups: tuple[str, ...] = (),
                   cn: str | None = None, **extra: str | list[str]) -> str:
        """Add an enabled user (sAMAccountName `username`, CN `cn` or the username); return the DN."""
        dn = self.person_dn(cn or username)
        with self.connect() as conn:
            _add_user(conn, dn, username, password, {
                "givenName": "Test", "sn": f"User {username}", "displayName": f"Test User {username}",
                "mail": f"{username}@{people.MAIL_DOMAIN}", **extra})
            for group in groups:
                conn.modify(self.group_dn(group), {"member": [(ldap3.MODIFY_ADD, [dn])]})
        return dn

    def add_group(self, name: str, members: tuple[str, ...] = ()) -> str:
        """A global security group in OU=Groups with these member DNs (people or groups)."""
        dn = self.group_dn(name)
        with self.connect() as conn:
            conn.add(dn, ["top", "group"], {"sAMAccountName": name, **({"member": list(members)} if members else {})})
        return dn

    def add_member_dn(self, group_dn: str, member_dn: str) -> None:
        """Add to any group by DN, built-in ones (CN=Domain Admins,CN=Users,...) included."""
        with self.connect() as conn:
            conn.modify(group_dn, {"member": [(ldap3.MODIFY_ADD, [member_dn])]})

    def modify(self, dn: str, changes: Mapping[str, object]) -> None:
        """Replace attributes as the Administrator."""
        with self.connect() as conn:
            conn.modify(dn, {name: [(ldap3.MODIFY_REPLACE, value if isinstance(value, list) else [value])]
                             for name, value in changes.items()})

    def disable(self, dn: str) -> None:
        self.modify(dn, {"userAccountControl": str(UAC_NORMAL | UAC_DISABLED)})

    def require_change(self, dn: str) -> None:
        """pwdLastSet = 0: the password must be changed at next sign-in (and counts as expired)."""
        self.modify(dn, {"pwdLastSet": "0"})

    def binds(self, dn: str, password: str) -> bool:
        """Whether a simple bind over LDAPS with this password, its UTF-8 bytes as typed (ldap3
        applies SASLprep to a str), works; never tried when empty."""
        if not password:
            return False
        server = ldap3.Server(self.url, use_ssl=True, tls=self.tls(), connect_timeout=5)
        return bool(ldap3.Connection(server, dn, password.encode("utf-8"), receive_timeout=15).bind())

    def lock(self, dn: str) -> None:
        """Lock the way AD does it: wrong passwords until the threshold (lockoutTime is not writable)."""
        server = ldap3.Server(self.url, use_ssl=True, tls=self.tls(), connect_timeout=5)
        for _ in range(LOCKOUT_THRESHOLD):
            ldap3.Connection(server, dn, "not the password").bind()

    def read(self, dn: str, attributes: list[str]) -> dict[str, object]:
        with self.connect() as conn:
            conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=attributes)
            return dict(conn.entries[0].entry_attributes_as_dict)

    # -- internals ---------------------------------------------------------------------------

    def _answers(self) -> bool:
        """Ready when an LDAPS handshake with THIS domain's certificate works."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.check_hostname = False
        with socket.create_connection((self.address, 636), timeout=2) as raw:
            with context.wrap_socket(raw):
                return True

    def _template(self) -> Path:
        """The cached, provisioned and seeded tree; made on first use."""
        template = self.cache / f"samba-{_recipe_key()}"
        if (template / "ready").exists():
            return template
        building = self.cache / f"{template.name}.building-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        _provision(building, self.address)
        _configure(building / "etc" / "smb.conf", building, template, self.address)  # its final name
        (building / "ready").touch()
        try:
            building.rename(template)
        except OSError:  # another process finished first: use its tree
            shutil.rmtree(building, ignore_errors=True)
        return template


def _samba_tool(conf: Path, *args: str) -> str:
    result = subprocess.run(["samba-tool", *args, "-s", str(conf)], capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        raise ServerFailed(f"samba-tool {' '.join(args[:3])} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


def _configure(conf: Path, old_root: Path, new_root: Path, address: str) -> None:
    """Point smb.conf at `new_root` and `address`; later duplicate lines would win, so replace."""
    text = conf.read_text().replace(str(old_root), str(new_root))
    wanted = {
        "server services": "ldap",
        "interfaces": f"{address}/8",  # the /8 matters: a bare address or /32 listens on nothing
        "bind interfaces only": "yes",
        "pid directory": f"{new_root}/run",
        "ncalrpc dir": f"{new_root}/run/ncalrpc",
        "winbindd socket directory": f"{new_root}/run/winbindd",
        "ntp signd socket directory": f"{new_root}/run/ntp_signd",
        "log file": f"{new_root}/log/samba.log",
        "old password allowed period": "0",  # else the previous password binds for an hour
    }
    lines = [line for line in text.splitlines()
             if line.split("=", 1)[0].strip().lower() not in wanted]
    at = next(i for i, line in enumerate(lines) if line.strip().lower() == "[global]") + 1
    lines[at:at] = [f"\t{key} = {value}" for key, value in wanted.items()]
    conf.write_text("\n".join(lines) + "\n")


def _make_runtime_folders(root: Path) -> None:
    for folder in ("run", "log"):
        (root / folder).mkdir(exist_ok=True)


def _provision(root: Path, address: str) -> None:
    """Provision the domain into `root`, set its policies, start it once and load the demo data."""
    conf = root / "etc" / "smb.conf"
    subprocess.run(["samba-tool", "domain", "provision", f"--realm={REALM}", f"--domain={DOMAIN}",
                    "--server-role=dc", "--dns-backend=NONE", f"--adminpass={ADMIN_PASSWORD}",
                    "--use-rfc2307", f"--targetdir={root}", "--host-name=dc1"],
                   check=True, capture_output=True, timeout=300)
    _configure(conf, root, root, address)
    _make_runtime_folders(root)
    _samba_tool(conf, "domain", "passwordsettings", "set", "--complexity=on",
                f"--min-pwd-length={MIN_LENGTH}", f"--history-length={HISTORY}", "--min-pwd-age=0",
                "--max-pwd-age=90", f"--account-lockout-threshold={LOCKOUT_THRESHOLD}",
                "--account-lockout-duration=15", "--reset-account-lockout-after=15")
    dc = SambaDC(address, root)
    dc.start()
    try:
        with dc.connect() as conn:
            _seed(conn, dc)
    finally:
        dc.stop()
    service = people.SERVICE.username
    _samba_tool(conf, "domain", "passwordsettings", "pso", "create", "service-account", "1",
                "--account-lockout-threshold=0", "--max-pwd-age=0")
    _samba_tool(conf, "domain", "passwordsettings", "pso", "apply", "service-account", service)
    _samba_tool(conf, "domain", "passwordsettings", "pso", "create", "min-age", "10", "--min-pwd-age=1")
    _samba_tool(conf, "domain", "passwordsettings", "pso", "apply", "min-age", MIN_AGE_GROUP)
    sid = _samba_tool(conf, "user", "show", service, "--attributes=objectSid")
    match = re.search(r"^objectSid: (S-[\d-]+)$", sid, re.MULTILINE)
    assert match, sid
    sddl = "".join(f"(OA;CIIO;{rights};{guid};{USER_CLASS};{match.group(1)})" for rights, guid in (
        ("CR", RESET_PASSWORD), ("RPWP", LOCKOUT_TIME), ("RPWP", PWD_LAST_SET)))
    _samba_tool(conf, "dsacl", "set", f"--objectdn={PEOPLE_OU}", f"--sddl={sddl}")
    # Fine-grained policies are readable by administrators only; reading them lets the portal show
    # the rules that really apply and name the rule a refused password broke.
    _samba_tool(conf, "dsacl", "set", f"--objectdn={PSO_CONTAINER}", f"--sddl=(A;CI;RPLCLORC;;;{match.group(1)})")
    # Sockets of the once-started DC are useless in a copy; the cache never runs itself.
    shutil.rmtree(root / "run", ignore_errors=True)


def _add_user(conn: ldap3.Connection, dn: str, username: str, password: str,
              attributes: Mapping[str, object]) -> None:
    conn.add(dn, ["top", "person", "organizationalPerson", "user"], {
        "sAMAccountName": username, "userPrincipalName": f"{username}@{REALM.lower()}",
        "unicodePwd": unicode_pwd(password), "userAccountControl": str(UAC_NORMAL),
        **{k: v for k, v in attributes.items() if v}})


def memberships(person: people.Person) -> list[str]:
    """The person's groups as the domain has them, e.g. "portal-admins (through it-admins)"."""
    return [f"{group} (through {THROUGH[person.username, group]})" if (person.username, group) in THROUGH
            else group for group in person.groups]


def _seed(conn: ldap3.Connection, dc: SambaDC) -> None:
    for ou in (PEOPLE_OU, GROUPS_OU, SERVICES_OU):
        conn.add(ou, ["top", "organizationalUnit"])
    for person in DEMO_PEOPLE:
        _add_user(conn, dc.person_dn(person.username), person.username, person.password, {
            "givenName": person.given_name, "sn": person.surname, "displayName": person.display_name,
            "mail": person.email, "mobile": person.mobile, "otherMailbox": person.other_mail})
    _add_user(conn, dc.service_dn, people.SERVICE.username, people.SERVICE.password,
              {"description": "The password portal's service account"})
    for name in (*people.GROUPS, people.PROTECTED_GROUP, *dict.fromkeys(THROUGH.values()), MIN_AGE_GROUP):
        conn.add(dc.group_dn(name), ["top", "group"], {"sAMAccountName": name})
    for person in DEMO_PEOPLE:
        for group in person.groups:
            target = THROUGH.get((person.username, group), group)
            conn.modify(dc.group_dn(target), {"member": [(ldap3.MODIFY_ADD, [dc.person_dn(person.username)])]})
    for (_, group), between in THROUGH.items():
        conn.modify(dc.group_dn(group), {"member": [(ldap3.MODIFY_ADD, [dc.group_dn(between)])]})
