"""Breached passwords: a Pwned Passwords file searched in place, or a range mirror asked by prefix.

The file is generated (two million lines, tests/services/passwords/breached_support.py) in the
downloader's format; the mirror is a real HTTP server in a thread.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from devstack.pwned import write_pwned_file
from portal import PROJECT_ROOT, create_app
from portal.services.container import collaborators
from portal.services.passwords.rules import PasswordRules
from portal.services.passwords.rules.digests import md4, ntlm_hex, sha1_hex
from portal.services.passwords.rules import hashfile
from portal.services.passwords.rules.hashfile import HashFile
from portal.settings import SettingsError, load_settings
from tests.services.passwords.breached_support import (BREACHED, CLEAN, ONCE, breached_toml, pwned_file,  # noqa: F401
                                                       range_mirror, silent_port)


def neighbours(key: bytes) -> list[bytes]:
    """The hashes just before and just after `key` (same length, upper-case hex)."""
    value, width = int(key, 16), len(key)
    return [f"{v:0{width}X}".encode() for v in (value - 1, value + 1) if 0 <= v < 16 ** width]


def rules_of(app: Flask) -> PasswordRules:
    return collaborators(app).password_rules


def codes(app: Flask, password: str) -> list[str]:
    with app.test_request_context():
        return [v.code for v in rules_of(app).check(password)]


# -- the file -------------------------------------------------------------------------------------

def test_listed_hashes_are_found_with_their_counts_and_others_are_not(pwned_file: tuple[Path, list[bytes]]) -> None:
    path, keys = pwned_file
    listed = HashFile(path, "sha1")
    assert {p: listed.count(sha1_hex(p)) for p in BREACHED} == BREACHED
    assert listed.count(sha1_hex(CLEAN)) == 0
    sample = keys[:: len(keys) // 5000] + keys[-3:]
    assert all(listed.count(key) > 0 for key in sample)
    present = set(keys)
    around = [n for key in sample for n in neighbours(key) if n not in present]
    assert len(around) > 9000 and not any(listed.count(n) for n in around)
    assert b"0" * 40 not in present and listed.count(b"0" * 40) == 0
    assert listed.count(b"F" * 40) == 0


@pytest.mark.parametrize("lines", [1, 2, 3, 5000])
@pytest.mark.parametrize("line_end", [b"\r\n", b"\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize("final_line_end", [True, False], ids=["line-end-at-eof", "no-line-end-at-eof"])
@pytest.mark.parametrize("samples", [hashfile.SAMPLES, 1], ids=["fences", "one-fence"])
def test_every_line_is_found_first_and_last_included_and_nothing_between(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: int, line_end: bytes, final_line_end: bool,
        samples: int) -> None:
    """With one fence (the first lines and the last) the binary search covers the whole file."""
    monkeypatch.setattr(hashfile, "SAMPLES", samples)
    path = tmp_path / "pwned.txt"
    keys = write_pwned_file(path, lines, line_end=line_end, final_line_end=final_line_end)
    assert path.read_bytes().endswith(line_end) is final_line_end
    listed = HashFile(path, "sha1")
    assert [listed.count(key) > 0 for key in keys] == [True] * len(keys)
    present = set(keys)
    assert [n for key in keys for n in neighbours(key) if n not in present and listed.count(n)] == []
    assert listed.count(b"F" * 40) == 0


def test_counts_are_read_whole_and_min_count_applies(tmp_path: Path, make_app: Callable[..., Flask]) -> None:
    path = tmp_path / "pwned.txt"
    write_pwned_file(path, 1000, {ONCE: 1, "Lantern meadow, copper 19 violin": 123456}, line_end=b"\n")
    assert HashFile(path, "sha1").count(sha1_hex("Lantern meadow, copper 19 violin")) == 123456
    app = make_app(breached_toml(file=str(path), min_count=2))
    assert codes(app, ONCE) == []
    assert codes(app, "Lantern meadow, copper 19 violin") == ["breached"]


def test_ntlm_files_are_searched_by_md4_of_utf16(tmp_path: Path, make_app: Callable[..., Flask]) -> None:
    assert md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"  # RFC 1320's test suite
    assert md4(b"").hex() == "31d6cfe0d16ae931b73c59d7e0c089c0"
    assert ntlm_hex("password") == b"8846F7EAEE8FB117AD06BDD830B7586C"
    path = tmp_path / "pwned-passwords-ntlm.txt"
    write_pwned_file(path, 5000, BREACHED, hash_format="ntlm")
    app = make_app(breached_toml(file=str(path), format="ntlm"))
    assert codes(app, ONCE) == ["breached"] and codes(app, CLEAN) == []


def test_a_forked_worker_searches_the_map_its_master_opened(pwned_file: tuple[Path, list[bytes]]) -> None:
    """gunicorn's preload: the master opens the file, the workers are forks that use it."""
    listed = HashFile(pwned_file[0], "sha1")
    child = os.fork()
    if child == 0:  # the worker: exit 0 only if it finds what it must and nothing else
        found = listed.count(sha1_hex(ONCE)) == 1 and listed.count(sha1_hex(CLEAN)) == 0
        os._exit(0 if found else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0
    assert listed.count(sha1_hex(ONCE)) == 1  # and the master's map is intact


def anonymous_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("RssAnon:")).split()[1])


def test_the_file_is_never_read_into_memory(pwned_file: tuple[Path, list[bytes]]) -> None:
    """Opening (the sample) and thousands of lookups leave the file's pages to the page cache:
    the process's own anonymous memory grows by far less than the file."""
    path, keys = pwned_file
    probes = keys[:: len(keys) // 5000]
    before = anonymous_kb()
    listed = HashFile(path, "sha1")
    assert sum(1 for key in probes if listed.count(key)) == len(probes)
    growth = anonymous_kb() - before
    assert growth * 1024 < path.stat().st_size / 20, f"{growth} kB for a {path.stat().st_size} byte file"


# -- a wrong file stops the portal with one line -------------------------------------------------

def _rewritten(change: Callable[[list[bytes]], list[bytes]]) -> Callable[[Path], None]:
    """A downloader-like file, its lines then changed by `change`."""
    def make(path: Path) -> None:
        write_pwned_file(path, 5000)
        path.write_bytes(b"".join(change(path.read_bytes().splitlines(keepends=True))))
    return make


def _by_count(lines: list[bytes]) -> list[bytes]:
    """The other download Pwned Passwords offered: ordered by count, most common first."""
    return sorted(lines, key=lambda line: -int(line.split(b":")[1]))


BAD_FILES: dict[str, tuple[Callable[[Path], object], str]] = {
    "missing": (lambda path: None, "not found"),
    "empty": (lambda path: path.write_bytes(b""), "is empty"),
    "a directory": (lambda path: path.mkdir(), "is a directory"),
    "unsorted": (_rewritten(lambda lines: lines[2500:] + lines[:2500]), "is not sorted by hash"),
    "ordered by count": (_rewritten(_by_count), "is not sorted by hash"),
    "lower-case hex": (_rewritten(lambda lines: [line.lower() for line in lines]),
                       "is not HASH:COUNT in upper-case hex"),
    "cut short": (_rewritten(lambda lines: [*lines[:-1], lines[-1][:20]]), "is not HASH:COUNT"),
    "another format": (lambda path: path.write_text("hash,count\n5BAA61E4,3\n"), "is not HASH:COUNT"),
    "NTLM for SHA-1": (lambda path: write_pwned_file(path, 50, hash_format="ntlm"),
                       "holds NTLM hashes, not SHA1 (40 hex digits): set passwords.breached.format"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_file_that_cannot_serve_stops_the_portal_with_one_line(
        tmp_path: Path, settings_file: Callable[[str], Path], kind: str) -> None:
    make, says = BAD_FILES[kind]
    path = tmp_path / "pwned.txt"
    make(path)
    settings = load_settings(settings_file(breached_toml(file=str(path))), {})
    with pytest.raises(SettingsError) as raised:
        create_app(settings)
    [problem] = [str(p) for p in raised.value.problems]
    assert problem.startswith(f"{path}: passwords.breached.file: ") and says in problem
    assert "\n" not in problem


def test_the_server_does_not_start_and_says_so_in_one_line(tmp_path: Path, settings_file: Callable[[str], Path]) -> None:
    """What the service manager shows: wsgi.py exits 2 with the one line."""
    missing = tmp_path / "pwned-passwords-sha1.txt"
    config = settings_file(breached_toml(file=str(missing)))
    result = subprocess.run([sys.executable, "-c", "import wsgi"], capture_output=True, text=True,
                            env={**os.environ, "PORTAL_CONFIG": str(config)}, cwd=PROJECT_ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"portal: settings error: {missing}: passwords.breached.file: not found: download it with "
        f"haveibeenpwned-downloader (README \"Breached passwords\")"]


@pytest.mark.parametrize("keys, says", [
    ({"file": "/x.txt", "range_url": "https://pwned.example/range/{prefix}"},
     "passwords.breached.range_url: set either file or range_url, not both"),
    ({"range_url": "https://pwned.example/range/"}, "passwords.breached.range_url: must contain {prefix} once"),
    ({"range_url": "http://pwned.example/range/{prefix}"}, "passwords.breached.range_url: must use https://"),
    ({"file": "pwned.txt"}, "passwords.breached.file: must be an absolute path"),
    ({"format": "md5"}, "passwords.breached.format: must be one of sha1, ntlm"),
    ({"on_unavailable": "retry"}, "passwords.breached.on_unavailable: must be one of accept, refuse"),
    ({"min_count": 0}, "passwords.breached.min_count: must be between 1"),
])
def test_wrong_settings_name_the_key_and_what_is_allowed(
        settings_file: Callable[[str], Path], keys: dict[str, str | int], says: str) -> None:
    path = settings_file(breached_toml(**keys))
    with pytest.raises(SettingsError) as raised:
        load_settings(path, {})
    [problem] = [str(p) for p in raised.value.problems]
    assert problem.startswith(f"{path}: {says}")


def test_the_rule_is_described_before_typing_only_when_a_list_is_set(
        make_app: Callable[..., Flask], pwned_file: tuple[Path, list[bytes]]) -> None:
    said = "Not a password known from data breaches."
    with_list = make_app(breached_toml(file=str(pwned_file[0])))
    with with_list.test_request_context():
        assert said in rules_of(with_list).describe()
    without = make_app()
    with without.test_request_context():
        assert said not in rules_of(without).describe() and rules_of(without).breached is None


def test_a_breached_password_is_refused_and_the_other_rules_still_come_first(
        make_app: Callable[..., Flask], pwned_file: tuple[Path, list[bytes]]) -> None:
    app = make_app(breached_toml(file=str(pwned_file[0])))
    assert codes(app, ONCE) == ["breached"]
    assert codes(app, CLEAN) == []
    assert codes(app, "short") == ["too_short"]


# -- the range mirror -----------------------------------------------------------------------------

def test_the_mirror_is_sent_only_five_hex_digits_and_its_padding_is_ignored(make_app: Callable[..., Flask]) -> None:
    listed = {**BREACHED, CLEAN: 0}  # a count-0 line for CLEAN's own suffix: padding, not a breach
    with range_mirror(listed) as mirror:
        app = make_app(breached_toml(range_url=mirror.url))
        assert codes(app, ONCE) == ["breached"]
        assert codes(app, CLEAN) == []
    assert mirror.asked == [f"/range/{sha1_hex(ONCE).decode()[:5]}", f"/range/{sha1_hex(CLEAN).decode()[:5]}"]


def test_an_ntlm_mirror_and_min_count(make_app: Callable[..., Flask]) -> None:
    with range_mirror(BREACHED, "ntlm") as mirror:
        app = make_app(breached_toml(range_url=mirror.url + "?mode=ntlm", format="ntlm", min_count=2))
        assert codes(app, "Lantern meadow, copper 19 violin") == ["breached"]
        assert codes(app, ONCE) == []  # seen once, under min_count
    asked = [ntlm_hex(p).decode()[:5] for p in ("Lantern meadow, copper 19 violin", ONCE)]
    assert mirror.asked == [f"/range/{prefix}?mode=ntlm" for prefix in asked]


def test_a_mirror_that_fails_accepts_by_default_and_refuses_when_set(
        make_app: Callable[..., Flask], capsys: pytest.CaptureFixture[str]) -> None:
    """The warning goes to the portal's log (JSON lines on stdout) without the password or its hash."""
    with range_mirror(BREACHED) as mirror:
        mirror.status = 503
        accepting = make_app(breached_toml(range_url=mirror.url))
        assert codes(accepting, ONCE) == []
        refusing = make_app(breached_toml(range_url=mirror.url, on_unavailable="refuse"))
        assert codes(refusing, ONCE) == ["breached_unchecked"]
    logged = capsys.readouterr().out
    assert "HTTP 503" in logged and "accepted without this check" in logged
    assert ONCE not in logged and sha1_hex(ONCE).decode() not in logged and sha1_hex(ONCE).decode()[:5] not in logged


def test_an_answer_that_is_not_a_range_counts_as_unavailable(make_app: Callable[..., Flask]) -> None:
    with range_mirror(BREACHED) as mirror:
        mirror.answer = "<html>Sign in to the proxy</html>"
        app = make_app(breached_toml(range_url=mirror.url, on_unavailable="refuse"))
        assert codes(app, ONCE) == ["breached_unchecked"]


def test_a_mirror_that_does_not_answer_in_time_counts_as_unavailable(make_app: Callable[..., Flask]) -> None:
    with silent_port() as url:
        app = make_app(breached_toml(range_url=url, timeout_seconds=0.2, on_unavailable="refuse"))
        assert codes(app, ONCE) == ["breached_unchecked"]
