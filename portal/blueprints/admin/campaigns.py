"""/admin/campaigns: create, preview, test-send, send and follow adoption campaigns."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from jinja2 import TemplateError
from sqlalchemy import select

from ...adapters.directory import DirectoryUnavailable, directory_for
from ...adapters.mail import Mail
from ...branding import current_theme
from ...services.campaigns import campaigns
from ...services.messaging.outbox import ChannelUnavailable
from ...services.reporting.csv_export import rows_as_csv
from ...store.campaigns import Campaign
from ...store.db import db
from ...web.errors import render_error
from ...web.identity import current_user
from .blueprint import administrator, bp, settings
from .downloads import csv_download


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _directory_down() -> ResponseReturnValue:
    return render_error(503, _("The directory is not available right now"),
                        _("Audiences come from the directory. Please try again in a few minutes."))


@bp.get("/campaigns")
def campaigns_index() -> ResponseReturnValue:
    rows = [(c, campaigns.progress(db(), c.id)) for c in db().scalars(select(Campaign).order_by(Campaign.id.desc()))]
    return render_template("admin/campaigns.html", rows=rows, templates=campaigns.TEMPLATES,
                           audiences=campaigns.AUDIENCES)


@bp.post("/campaigns/new")
def campaign_create() -> ResponseReturnValue:
    form = request.form
    try:
        campaign = campaigns.create(db(), settings(), template=form.get("template", ""),
                                    audience=form.get("audience", ""), group=form.get("group"),
                                    theme=current_theme().name, by=administrator())
    except campaigns.CampaignError as error:
        flash(str(error), "error")
        return redirect(url_for(".campaigns_index")), 303
    db().commit()
    return redirect(url_for(".campaign", campaign_id=campaign.id)), 303


@bp.get("/campaigns/<id:campaign_id>")
def campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    audience_size = None
    if campaign.status == campaigns.DRAFT:
        try:
            audience_size = len(campaigns.audience(db(), directory_for(), settings(), campaign))
        except DirectoryUnavailable:
            return _directory_down()
    try:
        preview, problem = _preview(campaign), None
    except TemplateError as error:  # IT's own template: tell them what is wrong with it
        preview, problem = None, f"{type(error).__name__}: {error}"
    return render_template("admin/campaign.html", campaign=campaign, audience_size=audience_size,
                           progress=campaigns.progress(db(), campaign.id), stalled=campaigns.stalled(campaign),
                           preview=preview, template_problem=problem)


def _preview(campaign: Campaign) -> Mail:
    """The mail as the signed-in administrator would get it."""
    user = current_user()
    assert user is not None
    return campaigns.render(settings(), campaign, to=user.email or "", name=user.name)


@bp.get("/campaigns/<id:campaign_id>/preview.html")
def campaign_preview_html(campaign_id: int) -> ResponseReturnValue:
    """The HTML part on its own page (the portal's CSP applies: no script can run in it)."""
    try:
        return _preview(_campaign(campaign_id)).html or ""
    except TemplateError as error:
        return Response(f"the template could not be rendered: {error}\n", status=422, mimetype="text/plain")


@bp.post("/campaigns/<id:campaign_id>/test")
def campaign_test(campaign_id: int) -> ResponseReturnValue:
    campaign, user = _campaign(campaign_id), current_user()
    assert user is not None
    if not user.email:
        flash(_("Your sign-in carries no email address to send the test to."), "error")
    else:
        try:
            campaigns.send_test(db(), settings(), campaign, to=user.email, name=user.name, by=user.username)
            db().commit()
            flash(_("A test message is on its way to %(address)s.", address=user.email), "success")
        except ChannelUnavailable:
            flash(_("No mail server is configured."), "error")
    return redirect(url_for(".campaign", campaign_id=campaign_id)), 303


@bp.post("/campaigns/<id:campaign_id>/send")
def campaign_send(campaign_id: int) -> ResponseReturnValue:
    _campaign(campaign_id)
    if not settings().mail.configured:
        flash(_("No mail server is configured."), "error")
        return redirect(url_for(".campaign", campaign_id=campaign_id)), 303
    try:
        count = campaigns.start(db(), directory_for(), settings(), campaign_id, by=administrator())
    except DirectoryUnavailable:
        return _directory_down()
    except campaigns.CampaignError as error:
        db().rollback()
        flash(str(error), "error")
        return redirect(url_for(".campaign", campaign_id=campaign_id)), 303
    db().commit()
    campaigns.send_in_background(current_app._get_current_object(), campaign_id)  # type: ignore[attr-defined]
    flash(_("Sending to %(count)d people has started.", count=count), "success")
    return redirect(url_for(".campaign", campaign_id=campaign_id)), 303


@bp.post("/campaigns/<id:campaign_id>/resume")
def campaign_resume(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    if campaigns.stalled(campaign):
        campaigns.send_in_background(current_app._get_current_object(), campaign_id)  # type: ignore[attr-defined]
        flash(_("Sending has resumed."), "success")
    return redirect(url_for(".campaign", campaign_id=campaign_id)), 303


@bp.get("/campaigns/<id:campaign_id>/recipients.csv")
def campaign_recipients_csv(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    rows = stream_with_context(rows_as_csv(campaigns.RECIPIENTS_HEADER, campaigns.recipient_rows(db(), campaign)))
    return csv_download(rows, f"campaign-{campaign.id}-recipients.csv")
