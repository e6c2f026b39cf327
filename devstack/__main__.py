"""`python -m devstack demo`: run the dev stack and the portal (see devstack/demo.py)."""
from __future__ import annotations

import argparse
import sys


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description="The portal's dev stack.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="start the dev stack and the portal on the demo ports until Ctrl-C")
    parser.parse_args()
    from devstack import demo  # imported late: `--help` works before the stack's parts are installed
    return demo.run()


if __name__ == "__main__":
    sys.exit(main())
