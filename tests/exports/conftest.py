from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def presets(channel_presets):
    """Every export test starts from the default channel presets."""
