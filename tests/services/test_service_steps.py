"""Service steps are plain functions of the app's Collaborators: no request, no app context.

A blueprint, a CLI command and a test call them the same way; this is what makes a step readable
(everything it touches is in its arguments) and testable without a browser. Only the store is
used here (SQLite), so no server is needed.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, has_app_context

from portal.services.campaigns import campaigns
from portal.services.container import collaborators
from portal.services.reporting import reports
from portal.services.reporting.audit_log import AuditFilter, page_of
from portal.services.reporting.date_range import DateRange


def test_campaign_and_reporting_steps_run_on_the_collaborators_alone(make_app: Callable[..., Flask]) -> None:
    c = collaborators(make_app())
    assert not has_app_context()

    campaign_id = campaigns.create(c, template="coming_soon", audience="everybody", group=" pilot ",
                                   theme="default", by="it-admin")
    [row] = campaigns.overview(c)
    assert (row.campaign.id, row.campaign.status, row.campaign.group) == (campaign_id, campaigns.DRAFT, "pilot")
    assert row.progress == campaigns.Progress(total=0, pending=0, waiting=0, delivered=0, failed=0, unrecorded=0)
    with pytest.raises(campaigns.NoSuchCampaign):
        campaigns.current_progress(c, campaign_id + 1)
    with pytest.raises(campaigns.CampaignError, match="template must be one of"):
        campaigns.create(c, template="phishing", audience="everybody", group=None, theme="default", by="it-admin")

    days = DateRange.parse(None, None)
    created = page_of(c, AuditFilter(period=days, event="campaign.created"))
    assert [(e.username, e.details) for e in created.events] == \
        [("it-admin", {"campaign": campaign_id, "template": "coming_soon", "audience": "everybody", "group": "pilot"})]
    assert created.events_known == ["campaign.created"]
    # read from the audit trail only: no directory needed for these two
    assert reports.tables(c, days, names=["failures", "activity"]) == {
        "failures": reports.Table(("event", "reason", "count"), []),
        "activity": reports.Table(("day", "action", "outcome", "reason", "count"), []),
    }
