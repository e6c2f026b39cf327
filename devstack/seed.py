"""`python -m devstack.seed`, run by the demo before the portal starts, with the portal's environment.

The demo's administrator (people.DEMO_ADMIN) must reach /admin at once, without a registration
detour: administrators need two methods (registration.admin_methods_required), and the demo sends
no SMS, so her mobile from the directory does not count. This gives her the two the policy
accepts: an alternate email through IT's own import (services/registration/csv_import.py, what
`flask registration import` runs), and an authenticator app with the published key of
people.py, saved as an import is (source "import": IT's data, not the person confirming, so never
due for re-confirmation). Seeding again replaces the same values, so restarts are harmless.
"""
from __future__ import annotations

import sys

from devstack import people


def main() -> int:
    from portal import create_app
    from portal.services.container import collaborators
    from portal.services.proofs import security_info
    from portal.services.proofs.methods import totp
    from portal.services.proofs.verification import totp_sealer
    from portal.services.registration.csv_import import import_rows
    from portal.settings import load_settings

    app = create_app(load_settings())
    with app.app_context():
        c = collaborators()
        rows = [["username", "email"], [people.DEMO_ADMIN, people.DEMO_ADMIN_ALTERNATE_EMAIL]]
        [line] = import_rows(rows, directory=c.directory, store=c.store, settings=c.settings)
        admin = c.directory.find_user(people.DEMO_ADMIN)
        if not line.ok or admin is None:
            print(f"could not seed {people.DEMO_ADMIN}'s security info: {line.problem}", file=sys.stderr)
            return 1
        with c.store.transaction() as db:
            security_info.save_method(db, admin, totp.KEY, source=security_info.FROM_IMPORT,
                                      sealed_secret=totp_sealer().seal(people.DEMO_ADMIN_AUTHENTICATOR_KEY))
    return 0


if __name__ == "__main__":
    sys.exit(main())
