"""/admin/campaigns: create, preview, test-send, send and follow adoption campaigns."""
from __future__ import annotations

from flask import Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from jinja2 import TemplateError

from ...branding import current_theme
from ...services.campaigns import campaigns
from ...services.container import collaborators
from ...services.messaging.outbox import ChannelUnavailable
from ...web import fields
from ...web.errors import render_error
from ...web.headers import shows_mail
from ...web.identity import SignedInUser, current_user
from .blueprint import administrator, bp
from .downloads import csv_download


def _back_to(campaign_id: int) -> ResponseReturnValue:
    return redirect(url_for(".campaign", campaign_id=campaign_id)), 303


def _viewer() -> SignedInUser:
    """The signed-in administrator (the blueprint's guard has run)."""
    user = current_user()
    assert user is not None
    return user


def _app() -> Flask:
    """The app itself, for a sender thread that outlives the request."""
    return current_app._get_current_object()  # type: ignore[attr-defined, no-any-return]


@bp.errorhandler(campaigns.NoSuchCampaign)
def _no_such_campaign(_error: campaigns.NoSuchCampaign) -> ResponseReturnValue:
    return render_error(404)


@bp.get("/campaigns")
def campaigns_index() -> ResponseReturnValue:
    return render_template("admin/campaigns.html", rows=campaigns.overview(collaborators()),
                           templates=campaigns.TEMPLATES, audiences=campaigns.AUDIENCES)


@bp.post("/campaigns/new")
def campaign_create() -> ResponseReturnValue:
    form = request.form
    try:
        campaign_id = campaigns.create(collaborators(), template=form.get("template", ""),
                                       audience=form.get("audience", ""), group=form.get("group"),
                                       theme=current_theme().name, by=administrator())
    except campaigns.CampaignError as error:
        flash(str(error), "error")
        return redirect(url_for(".campaigns_index")), 303
    return _back_to(campaign_id)


@bp.get("/campaigns/<id:campaign_id>")
def campaign(campaign_id: int) -> ResponseReturnValue:
    viewer = _viewer()
    page = campaigns.page(collaborators(), campaign_id, viewer_email=viewer.email, viewer_name=viewer.name)
    return render_template("admin/campaign.html", campaign=page.campaign, audience_size=page.audience_size,
                           counted_at=page.counted_at, progress=page.progress, stalled=page.stalled, preview=page.preview,
                           template_problem=page.template_problem)


@bp.get("/campaigns/<id:campaign_id>/preview.html")
@shows_mail
def campaign_preview_html(campaign_id: int) -> ResponseReturnValue:
    """The HTML part on its own page, as sent: its inline styles apply, no script can run in it."""
    viewer = _viewer()
    try:
        return campaigns.preview(collaborators(), campaign_id, to=viewer.email or "", name=viewer.name).html or ""
    except TemplateError as error:
        return Response(f"the template could not be rendered: {error}\n", status=422, mimetype="text/plain")


@bp.post("/campaigns/<id:campaign_id>/test")
def campaign_test(campaign_id: int) -> ResponseReturnValue:
    viewer = _viewer()
    try:
        sent = campaigns.send_test(collaborators(), campaign_id, to=viewer.email, name=viewer.name,
                                   by=viewer.username)
    except ChannelUnavailable:
        flash(_("No mail server is configured."), "error")
        return _back_to(campaign_id)
    if sent:
        flash(_("A test message, marked as a test, is on its way to %(address)s.", address=viewer.email), "success")
    else:
        flash(_("Your sign-in carries no email address to send the test to."), "error")
    return _back_to(campaign_id)


@bp.get("/campaigns/<id:campaign_id>/send")
def campaign_confirm_send(campaign_id: int) -> ResponseReturnValue:
    """The step before sending: how many people will be mailed, and one button that says so."""
    try:
        found = campaigns.confirmation(collaborators(), campaign_id)
    except campaigns.AlreadyStarted as error:
        flash(str(error), "error")
        return _back_to(campaign_id)
    return render_template("admin/campaign_send.html", campaign=found.campaign, audience_size=found.audience_size,
                           counted_at=found.counted_at)


def _confirmed_size() -> int | None:
    """The audience size the confirmation page showed (its form sends it back); None: not confirmed."""
    try:
        return fields.bounded_int(request.form.get("expected"), "expected", lowest=0)
    except fields.InvalidField:
        return None


@bp.post("/campaigns/<id:campaign_id>/send")
def campaign_send(campaign_id: int) -> ResponseReturnValue:
    """Starts only with the number the administrator confirmed; anything else goes back to the
    confirmation, with the number as it is now."""
    expected = _confirmed_size()
    if expected is None:
        return redirect(url_for(".campaign_confirm_send", campaign_id=campaign_id)), 303
    try:
        count = campaigns.start_in_background(collaborators(), _app(), campaign_id, by=administrator(),
                                              expected=expected)
    except ChannelUnavailable:
        flash(_("No mail server is configured."), "error")
        return _back_to(campaign_id)
    except campaigns.AudienceChanged as error:
        flash(str(error), "error")
        return redirect(url_for(".campaign_confirm_send", campaign_id=campaign_id)), 303
    except campaigns.CampaignError as error:
        flash(str(error), "error")
        return _back_to(campaign_id)
    flash(_("Sending to %(count)d people has started.", count=count), "success")
    return _back_to(campaign_id)


@bp.post("/campaigns/<id:campaign_id>/resume")
def campaign_resume(campaign_id: int) -> ResponseReturnValue:
    if campaigns.resume_in_background(collaborators(), _app(), campaign_id):
        flash(_("Sending has resumed."), "success")
    return _back_to(campaign_id)


@bp.get("/campaigns/<id:campaign_id>/recipients.csv")
def campaign_recipients_csv(campaign_id: int) -> ResponseReturnValue:
    return csv_download(campaigns.recipients_csv(collaborators(), campaign_id),
                        f"campaign-{campaign_id}-recipients.csv")
