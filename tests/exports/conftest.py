from __future__ import annotations

import pytest

from apps.exports.services import preset_defaults_ensure


@pytest.fixture(autouse=True)
def presets(db):
    # Transactional tests elsewhere flush the migration's rows; put the defaults back.
    preset_defaults_ensure()
