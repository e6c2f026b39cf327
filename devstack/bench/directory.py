"""The bench's own slapd: the dev stack's configuration with room for N people, loaded offline."""
from __future__ import annotations

import time
from pathlib import Path

from devstack.people import GROUPS_OU, PEOPLE_OU
from devstack.ports import Ports
from devstack.slapd import Slapd

from . import seed

DEV_MAXSIZE = "maxsize 67108864"
# About 3 kB per person in mdb with the dev stack's indexes; a sparse file, so room costs nothing.
BYTES_PER_PERSON = 16_384
MIN_MAXSIZE = 1 << 30


class BenchSlapd(Slapd):
    """devstack/slapd.py's server and rules, seeded by `slapadd` of seed.write_ldif's file."""

    def __init__(self, ports: Ports, workdir: Path, population: seed.Population) -> None:
        super().__init__(ports, workdir)
        self.population = population
        self.seconds_to_seed = 0.0

    def create(self) -> None:
        """The dev stack's files, then the whole population loaded offline, then start."""
        self._prepare()
        started = time.monotonic()
        ldif_file = self.workdir / "people.ldif"
        seed.write_ldif(self.population, ldif_file, self._base_records())
        seed.slapadd(self.config_file, ldif_file)
        ldif_file.unlink()
        self.seconds_to_seed = time.monotonic() - started
        self.start()

    def _config(self) -> str:
        maxsize = max(MIN_MAXSIZE, self.population.size * BYTES_PER_PERSON)
        config = super()._config()
        assert DEV_MAXSIZE in config, "devstack/slapd.py's maxsize line moved"
        return config.replace(DEV_MAXSIZE, f"maxsize {maxsize}")

    def _base_records(self) -> list[str]:
        """The dev stack's tree, policies and service account, without its demo people and groups."""
        def kept(record: str) -> bool:
            dn = record.split("\n", 1)[0]
            return not any(dn.endswith(f",{ou}") for ou in (PEOPLE_OU, GROUPS_OU))
        return [record for record in self._seed_records() if kept(record)]
