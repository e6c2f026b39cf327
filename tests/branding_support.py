"""Apps built on a copy of the shipped themes (a test may break them or add override files):
the branding and language tests' fixtures."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from portal import create_app
from portal.settings import SettingsError, load_settings
from tests.conftest import migrated
from tests.support import REPO_BRANDING, settings_toml


@pytest.fixture
def branding(tmp_path: Path) -> Path:
    """A copy of the shipped themes the test may break."""
    target = tmp_path / "branding"
    shutil.copytree(REPO_BRANDING, target)
    return target


@pytest.fixture
def build(tmp_path: Path, branding: Path) -> Callable[..., Flask]:
    """A portal with `extra` top-level TOML (tables may follow) in `theme`."""
    def run(extra: str = "", theme: str = "default", **options: str) -> Flask:
        path = tmp_path / "portal.toml"
        path.write_text(settings_toml(f"sqlite:///{tmp_path}/p.db", f'branding_dir = "{branding}"\n{extra}',
                                      theme=theme, **options))  # type: ignore[arg-type]
        return migrated(create_app(load_settings(path, {})))
    return run


def start_up_problems(build: Callable[..., Flask], *args: str, **kwargs: str) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        build(*args, **kwargs)
    return [str(p) for p in raised.value.problems]
