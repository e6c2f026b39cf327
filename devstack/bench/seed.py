"""Seeding for `make bench`: a directory and a store of N people in seconds, not minutes.

`ldapadd` of 90,000 people takes over 3 minutes here; an offline `slapadd -q` of the same LDIF
takes seconds. slapadd skips the overlays, so this LDIF carries what they would have computed:
`memberOf` on every member (the memberof overlay), hashed `{SSHA}` passwords (ppolicy's
hash_cleartext), and a fixed `entryUUID` per person, so the store's registrations can be written
in bulk (COPY) against the same directory ids without reading the directory back.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

from devstack import ldif
from devstack.people import ADMIN_GROUP, GROUPS_OU, MAIL_DOMAIN, PEOPLE_OU

SLAPADD = "/usr/sbin/slapadd"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NAMESPACE = uuid.UUID("6b1d0c8e-6a53-4c0e-9a53-62656e636821")
PASSWORD = "Bench.Person.2026!"
ADMIN = "bench-admin"
ADMIN_PASSWORD = "Bench.Admin.2026!"
# Groups for the figures: a campaign to QUEUE_GROUP queues up to 10,000 recipients; one to
# DELIVERY_GROUP is a delivery round.
QUEUE_GROUP, QUEUE_SIZE = "bench-queue", 10_000
DELIVERY_GROUP, DELIVERY_SIZE = "bench-delivery", 400
# Three people in four have registered security info (the rest count as "not registered").
REGISTERED_EVERY = 4


def ssha(password: str, salt: bytes | None = None) -> str:
    """The {SSHA} value slapd would have stored (salted SHA-1), so binds work after slapadd."""
    salt = salt or os.urandom(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def login(index: int) -> str:
    return f"p{index:06d}"


def directory_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def alternate_email(name: str) -> str:
    return f"{name}.home@mail.example"


@dataclass(frozen=True)
class Population:
    """N people p000000..; people below QUEUE_SIZE / DELIVERY_SIZE are in those groups."""

    size: int

    def groups_of(self, index: int) -> list[str]:
        return [group for group, size in ((QUEUE_GROUP, QUEUE_SIZE), (DELIVERY_GROUP, DELIVERY_SIZE))
                if index < size]

    def registered(self, index: int) -> bool:
        return index % REGISTERED_EVERY != REGISTERED_EVERY - 1


def write_ldif(population: Population, path: Path, base_records: list[str]) -> None:
    """The whole directory as one LDIF file, streamed: base entries, people, groups."""
    hashed = ssha(PASSWORD)  # one hash for everyone: only the admin and the reset people sign in
    group_dn = {g: f"cn={g},{GROUPS_OU}" for g in (QUEUE_GROUP, DELIVERY_GROUP, ADMIN_GROUP)}
    members: dict[str, list[str]] = {g: [] for g in group_dn}
    with path.open("w") as out:
        out.write(ldif.document(base_records) + "\n")
        for index in range(population.size):
            name = login(index)
            dn = f"uid={name},{PEOPLE_OU}"
            groups = population.groups_of(index)
            for group in groups:
                members[group].append(dn)
            out.write(_person(dn, name, f"Person {index}", hashed, [group_dn[g] for g in groups]))
        admin_dn = f"uid={ADMIN},{PEOPLE_OU}"
        members[ADMIN_GROUP].append(admin_dn)
        out.write(_person(admin_dn, ADMIN, "Bench Admin", ssha(ADMIN_PASSWORD), [group_dn[ADMIN_GROUP]]))
        for group, dn in group_dn.items():
            out.write(ldif.entry(dn, {"objectClass": "groupOfNames", "cn": group, "member": members[group]}) + "\n")


def _person(dn: str, name: str, display: str, hashed: str, member_of: list[str]) -> str:
    given, _, surname = display.partition(" ")
    lines = [f"dn: {dn}", "objectClass: inetOrgPerson", "objectClass: inetLocalMailRecipient",
             f"uid: {name}", f"cn: {display}", f"sn: {surname}", f"givenName: {given}",
             f"displayName: {display}", f"mail: {name}@{MAIL_DOMAIN}",
             f"mailLocalAddress: {alternate_email(name)}", f"userPassword: {hashed}",
             f"entryUUID: {directory_id(name)}", *(f"memberOf: {group}" for group in member_of)]
    return "\n".join(lines) + "\n\n"


def slapadd(config_file: Path, ldif_file: Path) -> None:
    """Offline load (quick mode: no consistency checks; the LDIF is ours)."""
    result = subprocess.run([SLAPADD, "-q", "-f", str(config_file), "-l", str(ldif_file)],
                            capture_output=True, timeout=1200)
    if result.returncode != 0:
        raise RuntimeError(f"slapadd failed ({result.returncode}): {result.stderr.decode(errors='replace')[-2000:]}")


def create_database(name: str) -> str:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_registrations(url: str, population: Population) -> int:
    """Security profiles with one email method each, by COPY (the schema is already upgraded)."""
    now = datetime.now(timezone.utc)
    profiles, methods = io.StringIO(), io.StringIO()
    count = 0
    for index in range(population.size):
        if not population.registered(index):
            continue
        count += 1
        name = login(index)
        # confirmations spread over the last year, so "due to re-confirm" has people in it
        confirmed = (now - timedelta(days=index % 365)).isoformat()
        profiles.write(f"{count}\t{directory_id(name)}\t{name}\t{confirmed}\t{confirmed}\t{confirmed}\n")
        methods.write(f"{count}\t{count}\temail\t{alternate_email(name)}\tuser\t{confirmed}\t{confirmed}\n")
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        for table, columns, data in (
                ("security_profiles", "id, directory_id, username, confirmed_at, created_at, updated_at", profiles),
                ("auth_methods", "id, profile_id, kind, destination, source, created_at, updated_at", methods)):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(data.getvalue())
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {max(count, 1)})")
    return count

