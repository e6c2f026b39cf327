"""IT imports security info from CSV: every line is reported, bad lines are skipped, nothing else is lost."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from portal.store.audit import AuditEvent
from portal.store.security_info import AuthMethod, SecurityProfile
from tests.registration_support import app, portal_app, sms_gateway  # noqa: F401

CSV = """username,email,phone
alice,alice.home@mail.example,+1 201 555 0111
nobody-here,someone@mail.example,
bob,not-an-address,
carol,,+44 7400 123456
dave,,+49 151 23456789
erin,erin.home@mail.example
alice,alice.other@mail.example,
,lost@mail.example,

dave,dave.home@mail.example,(201) 555-0144
bob,,+44 20 7946 0958
"""


def stored(app: Flask) -> dict[str, dict[str, str]]:
    with app.extensions["store"].transaction() as db:
        rows = db.execute(select(SecurityProfile.username, AuthMethod.kind, AuthMethod.destination, AuthMethod.source)
                          .join(AuthMethod.profile)).all()
    found: dict[str, dict[str, str]] = {}
    for username, kind, destination, source in rows:
        assert source == "import"
        found.setdefault(username, {})[kind] = destination
    return found


def test_good_lines_are_imported_and_each_bad_line_is_reported_and_skipped(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["registration", "import", str(path)])

    assert result.exit_code == 1, result.output  # some lines were skipped: scripts must notice
    report = result.output.splitlines()
    assert report == [
        "line 2: alice: imported email, phone",
        "line 3: nobody-here: skipped: No account with this user name in the directory.",
        "line 4: bob: skipped: email: Enter an email address such as name@example.com.",
        "line 5: carol: imported phone",
        "line 6: dave: skipped: phone: Numbers from that country cannot be used. Allowed: US, CA, GB.",
        "line 7: erin: skipped: The line does not have one value per column.",
        "line 8: alice: skipped: This person is on an earlier line already.",
        "line 9: (no user name): skipped: The user name is missing.",
        "line 11: dave: imported email, phone",
        "line 12: bob: skipped: phone: That is a landline number. "
        "Enter a mobile number that can receive text messages.",
        "3 imported, 7 skipped",
    ]
    assert stored(app) == {
        "alice": {"email": "alice.home@mail.example", "phone": "+12015550111"},
        "carol": {"phone": "+447400123456"},
        "dave": {"email": "dave.home@mail.example", "phone": "+12015550144"},
    }
    with app.extensions["store"].transaction() as db:
        imported = db.scalars(select(AuditEvent.username).where(AuditEvent.event == "registration.imported")).all()
        confirmed = db.scalars(select(SecurityProfile.confirmed_at)).all()
    assert sorted(imported) == ["alice", "carol", "dave"]
    assert confirmed == [None, None, None]  # IT's import is not the person confirming


def test_a_file_without_the_expected_header_stops_before_importing(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("alice,alice.home@mail.example\n", encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["registration", "import", str(path)])

    assert result.exit_code == 2
    assert "The first line must name the columns" in result.output
    assert stored(app) == {}


def test_a_semicolon_separated_file_from_excel_is_read(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("\ufeffusername;phone\nbob;+1 201 555 0102\n".encode())

    result = app.test_cli_runner().invoke(args=["registration", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert stored(app) == {"bob": {"phone": "+12015550102"}}
