from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def presets(channel_presets):
    """Channel sizes come from the channel presets: every test here starts from the defaults."""
