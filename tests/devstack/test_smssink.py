"""The demo's SMS sink takes texts from the portal's own webhook adapter, built from the demo's
settings, keeps each one as a file in arrival order and tells its listener; what is not a webhook
text gets a 4xx, which the adapter treats as a refusal, not as a reason to retry."""
from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.demo import REPO
from devstack.ports import TEST, demo_ports
from devstack.smssink import SmsSink, Text, summary
from portal.adapters.sms import PermanentSmsError, SmsGateway, make_gateway
from portal.settings.engine import Problem, build
from portal.settings.sms import SmsSettings


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[SmsSink, list[Text]]]:
    heard: list[Text] = []
    with SmsSink(TEST.sms, tmp_path / "sms", on_text=heard.append) as running:
        yield running, heard


def demo_gateway(config: str, url: str) -> SmsGateway:
    """The gateway the portal builds from `config`'s [sms] table, pointed at `url` (as a demo slot
    is told by PORTAL_SMS__WEBHOOK__URL)."""
    with (REPO / config).open("rb") as handle:
        table: dict[str, Any] = tomllib.load(handle)["sms"]
    problems: list[Problem] = []
    settings = build(SmsSettings, table, "sms", lambda key: config, problems)
    assert settings is not None and not problems
    gateway = make_gateway(dataclasses.replace(settings, webhook=dataclasses.replace(settings.webhook, url=url)))
    assert gateway is not None
    return gateway


@pytest.mark.parametrize("config", ["config/demo.toml", "config/demo-ad.toml"])
def test_the_demo_s_gateway_settings_send_to_the_sink(sink: tuple[SmsSink, list[Text]], config: str) -> None:
    running, heard = sink
    assert demo_ports(0).sms_url == "http://127.0.0.1:2526/sms"   # what both files name for slot 0
    gateway = demo_gateway(config, running.url)

    gateway.send("+12015550101", "123456 is your Contoso verification code")
    gateway.send("+12015550102", 'braces {stay} and "quotes" too')

    expected = [Text("+12015550101", "123456 is your Contoso verification code"),
                Text("+12015550102", 'braces {stay} and "quotes" too')]
    assert running.texts() == expected == heard
    assert len(list(running.folder.glob("*.json"))) == 2
    assert running.wait_for(lambda t: t.to.endswith("0102")).message.startswith("braces")
    assert summary(expected[0]) == "SMS to +12015550101: 123456 is your Contoso verification code"
    running.clear()
    assert running.texts() == []


def test_what_is_not_a_text_is_refused(sink: tuple[SmsSink, list[Text]]) -> None:
    running, heard = sink
    base = running.url.removesuffix("/sms")
    assert requests.post(running.url, data=b"not json", timeout=5).status_code == 400
    assert requests.post(running.url, json={"to": "+12015550101"}, timeout=5).status_code == 400
    assert requests.post(f"{base}/elsewhere", json={"to": "x", "message": "y"}, timeout=5).status_code == 404
    with pytest.raises(PermanentSmsError):
        demo_gateway("config/demo.toml", f"{base}/elsewhere").send("+12015550101", "lost")
    assert running.texts() == [] == heard
