"""Reads for the asset record."""

from __future__ import annotations

from apps.exports.selectors import asset_record
from tests.factories import make_draft


def test_the_record_lists_the_lineage_from_the_root_down_to_this_asset(cast, batch):
    root = make_draft(batch, name="root.png")
    child = make_draft(batch, name="child.png", parent=root)
    make_draft(batch, name="sibling.png", parent=root)
    record = asset_record(child)
    assert [(item["id"], item["is_this"]) for item in record["lineage"]] == [
        (root.pk, False),
        (child.pk, True),
    ]
