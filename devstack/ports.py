"""Fixed loopback ports of the dev stack: one set for `make demo`, others for test runs.

Two sets let the test suite run while the demo is up. Several test runs on one machine (two
engineers, or CI beside a developer) each take their own "slot": slot N shifts every test port by
10 x N and puts its Samba DC on 127.0.0.(3+N). Samba's LDAP ports are hard-coded (389/636), so
each DC gets its own loopback address instead of its own port.

The slot is DEVSTACK_TEST_SLOT when set (child processes inherit it); otherwise the first slot
whose lock file this process can lock, held until the process ends.

The demo has slots too, chosen by DEVSTACK_DEMO_SLOT (default 0, the documented ports): slot N
shifts the demo's ports by 10 x N and puts its DC on 127.0.0.(20+N). A test that starts the demo
the way a person does uses a slot of its own, so it never collides with a demo someone is running.
"""
from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from typing import IO

SLOT_VARIABLE = "DEVSTACK_TEST_SLOT"
SLOTS = 10
DEMO_SLOT_VARIABLE = "DEVSTACK_DEMO_SLOT"


@dataclass(frozen=True)
class Ports:
    ldap: int          # slapd, ldap://127.0.0.1:<ldap>
    oidc: int          # OpenID Connect provider, http://127.0.0.1:<oidc>
    smtp: int          # aiosmtpd mail sink
    portal: int        # the portal itself (demo server, or the live server of browser tests)
    samba_address: str  # Samba AD DC listens on <samba_address>:389/636

    @property
    def sms(self) -> int:
        """The SMS sink (devstack/smssink.py): next to the mail sink, in every slot."""
        return self.smtp + 1

    @property
    def sms_url(self) -> str:
        return f"http://127.0.0.1:{self.sms}/sms"

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.portal}"

    @property
    def second_portal_url(self) -> str:
        """The same portal under another host name, for a second host in [hosts]: to a browser
        `localhost` and `127.0.0.1` are two hosts, each with its own cookies, on one listening socket."""
        return f"http://localhost:{self.portal}"

    @property
    def portal_urls(self) -> tuple[str, str]:
        return self.portal_url, self.second_portal_url

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.oidc}"

    @property
    def ldap_url(self) -> str:
        return f"ldap://127.0.0.1:{self.ldap}"


def demo_ports(slot: int) -> Ports:
    """Slot 0 is the documented demo (README, config/demo*.toml); see the module docstring."""
    shift = 10 * slot
    return Ports(ldap=3389 + shift, oidc=9000 + shift, smtp=2525 + shift, portal=5000 + shift,
                 samba_address="127.0.0.2" if slot == 0 else f"127.0.0.{20 + slot}")


def demo_slot() -> int:
    value = os.environ.get(DEMO_SLOT_VARIABLE, "0")
    if not value.isdigit() or int(value) > 2 * SLOTS:
        raise ValueError(f"{DEMO_SLOT_VARIABLE} must be a number from 0 to {2 * SLOTS} (got {value!r})")
    return int(value)


DEMO = demo_ports(demo_slot())


def test_ports(slot: int) -> Ports:
    shift = 10 * slot
    return Ports(ldap=13389 + shift, oidc=19000 + shift, smtp=12525 + shift, portal=15000 + shift,
                 samba_address=f"127.0.0.{3 + slot}")


_slot_lock: IO[str] | None = None


def claim_test_slot() -> int:
    """This process's test slot; see the module docstring."""
    global _slot_lock
    if os.environ.get(SLOT_VARIABLE, "").isdigit():
        return int(os.environ[SLOT_VARIABLE]) % SLOTS
    for slot in range(SLOTS):
        handle = open(f"/tmp/devstack-test-slot-{slot}.lock", "w")  # noqa: SIM115 - held for life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _slot_lock = handle
        os.environ[SLOT_VARIABLE] = str(slot)
        return slot
    raise RuntimeError(f"all {SLOTS} dev-stack test slots are in use on this machine")


def __getattr__(name: str) -> Ports:
    """`TEST` is chosen on first use, so the demo never takes a test slot."""
    if name == "TEST":
        ports = test_ports(claim_test_slot())
        globals()["TEST"] = ports
        return ports
    raise AttributeError(name)
