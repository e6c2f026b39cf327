"""`python -m devstack demo [--directory openldap|ad]`: run the dev stack and the portal (see devstack/demo.py)."""
from __future__ import annotations

import argparse
import sys


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description="The portal's dev stack.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_command = commands.add_parser(
        "demo", help="start the dev stack and the portal on the demo ports until Ctrl-C")
    demo_command.add_argument(
        "--directory", choices=("openldap", "ad"), default="openldap",
        help="OpenLDAP slapd (config/demo.toml) or a Samba Active Directory DC (config/demo-ad.toml)")
    arguments = parser.parse_args()
    from devstack import demo  # imported late: `--help` works before the stack's parts are installed
    return demo.run(arguments.directory)


if __name__ == "__main__":
    sys.exit(main())
