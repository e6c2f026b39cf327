"""/admin: "require re-registration" for one person or a group (the CLI's `registration
require-reregistration` does the same through the same service)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from ...services.container import collaborators
from ...services.registration import reregistration
from ...web.errors import render_error
from .blueprint import administrator, bp

PERSON, GROUP = "person", "group"


@bp.post("/reregistration")
def require_reregistration() -> ResponseReturnValue:
    kind, name = request.form.get("kind", ""), request.form.get("name", "")
    if kind not in (PERSON, GROUP):
        return render_error(400, _("Choose a person or a group"), _("Please start again from the overview."))
    ask = reregistration.for_person if kind == PERSON else reregistration.for_group
    try:
        asked = ask(collaborators(), name, by=administrator())
    except reregistration.NotAsked as refused:
        flash(str(refused), "error")
    except reregistration.DirectoryUnavailable:
        return render_error(503, _("The directory is not available right now"),
                            _("Please try again in a few minutes."))
    else:
        flash(ngettext("%(num)d person will be asked to re-register at their next sign-in.",
                       "%(num)d people will be asked to re-register at their next sign-in.",
                       len(asked.logins)), "success")
    return redirect(url_for(".index", _anchor="reregistration-heading")), 303
