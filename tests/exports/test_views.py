"""The export pages and downloads through the web, as each person in the campaign."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.campaigns.models import Membership
from apps.core.models import JobStatus
from apps.exports.links import pack_link_token
from apps.exports.models import ChannelVersion, CropOverride, ExportJob, FocalArea, Pack
from apps.exports.runs import export_run, pack_run
from apps.exports.services import export_queue, pack_queue
from tests.exports.builders import kept_draft
from tests.factories import make_draft


@pytest.fixture
def kept(cast, batch):
    return kept_draft(batch, cast.art_director)


def _exported_pack(cast, draft):
    export_run(job_id=export_queue(draft=draft, by=None).pk)
    pack = pack_queue(campaign=cast.campaign, draft=draft, by=cast.producer)
    pack_run(job_id=pack.pk)
    pack.refresh_from_db()
    return pack


def test_the_channel_sheet_shows_every_preset_with_its_crop_and_warnings(cast, batch):
    cast.campaign.target_channels = []
    cast.campaign.save()
    draft = kept_draft(batch, cast.art_director, size=(1200, 800))
    # The preview job proposed the subject from saliency; the page only reads it.
    assert FocalArea.objects.filter(draft=draft, source="auto").exists()
    page = cast.client("reviewer").get(reverse("exports:sheet", args=[draft.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="sheet-card') == 10
    assert "Upscale the master ×4 to export this channel" in html  # the product card
    assert "Edit crop" not in html  # reviewers look, producers and art directors act
    assert "Proposed automatically from saliency (confidence" in html


def test_before_the_preview_job_the_sheet_and_crop_editor_show_the_middle_and_write_nothing(
    cast, batch
):
    draft = make_draft(batch, name="fresh.png")  # its preview job has not run
    FocalArea.objects.filter(draft=draft).delete()
    client = cast.client("producer")
    sheet = client.get(reverse("exports:sheet", args=[draft.pk]))
    assert sheet.status_code == 200
    assert "Not proposed yet" in sheet.content.decode()
    third = (draft.width // 3, draft.height // 3, draft.width // 3, draft.height // 3)
    assert 'data-box="{},{},{},{}"'.format(*third) in sheet.content.decode()
    crop = client.get(reverse("exports:crop", args=[draft.pk, "square"]))
    assert crop.status_code == 200
    assert not FocalArea.objects.filter(draft=draft).exists()


def test_the_sheet_page_runs_a_bounded_number_of_queries(
    cast, batch, django_assert_max_num_queries
):
    draft = kept_draft(batch, cast.art_director)
    client = cast.client("producer")
    client.get(reverse("exports:sheet", args=[draft.pk]))
    with django_assert_max_num_queries(20):
        assert client.get(reverse("exports:sheet", args=[draft.pk])).status_code == 200


def test_a_producer_moves_the_subject_with_fractions_of_the_picture(cast, kept):
    url = reverse("exports:focal", args=[kept.pk])
    response = cast.client("producer").post(url, {"x": "0.1", "y": "0.2", "w": "0.25", "h": "0.5"})
    assert response.status_code == 302
    focal = FocalArea.objects.get(draft=kept)
    assert (focal.x, focal.y, focal.width, focal.height) == (260, 420, 650, 1050)
    assert focal.source == "person"


def test_a_broken_focal_box_gets_a_message_not_a_500(cast, kept):
    url = reverse("exports:focal", args=[kept.pk])
    response = cast.client("producer").post(
        url, {"x": "nan", "y": "0", "w": "0", "h": "1"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400 and "error" in response.json()


def test_the_crop_editor_saves_a_box_locked_to_the_aspect_ratio(cast, kept):
    url = reverse("exports:crop", args=[kept.pk, "hero"])
    client = cast.client("art_director")
    page = client.get(url)
    assert page.status_code == 200 and b'data-output-width="2400"' in page.content
    response = client.post(url, {"x": "0", "y": "0.1", "w": "0.9", "h": "0.3"})
    assert response.status_code == 302
    crop = CropOverride.objects.get(draft=kept, preset__slug="hero")
    assert abs(crop.width / crop.height - 3) < 0.01
    reset = client.post(reverse("exports:crop-reset", args=[kept.pk, "hero"]))
    assert reset.status_code == 302 and not CropOverride.objects.exists()


def test_an_unknown_preset_is_a_404(cast, kept):
    assert (
        cast.client("producer").get(reverse("exports:crop", args=[kept.pk, "nope"])).status_code
        == 404
    )


def test_exporting_from_the_sheet_queues_one_job(cast, kept, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = cast.client("producer").post(reverse("exports:export-draft", args=[kept.pk]))
    assert response.status_code == 302
    assert ExportJob.objects.filter(draft=kept).count() == 1
    assert len(callbacks) == 1


def test_a_draft_that_is_not_kept_is_not_exported(cast, batch):
    draft = make_draft(batch)
    response = cast.client("producer").post(
        reverse("exports:export-draft", args=[draft.pk]), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert "keep this draft first" in response.json()["error"]


def test_a_batch_export_queues_every_kept_draft_and_skips_the_rest(cast, batch):
    kept_draft(batch, cast.art_director, size=(1300, 900))
    kept_draft(batch, cast.art_director, size=(1400, 900))
    make_draft(batch)
    response = cast.client("art_director").post(
        reverse("exports:export-batch", args=[batch.pk]), HTTP_ACCEPT="application/json"
    )
    assert response.json() == {"queued": 2}


def test_the_batch_grid_offers_producers_the_kept_export(cast, kept):
    html = cast.client("producer").get(reverse("drafts:batch", args=[kept.batch_id])).content
    assert b"Export kept (1)" in html
    assert (
        b"Export kept"
        not in cast.client("reviewer").get(reverse("drafts:batch", args=[kept.batch_id])).content
    )


def test_the_draft_page_panel_links_the_sheet_and_offers_export(cast, kept):
    html = cast.client("producer").get(reverse("drafts:detail", args=[kept.pk])).content.decode()
    assert reverse("exports:sheet", args=[kept.pk]) in html
    assert "Export channel versions" in html


def test_a_channel_version_file_is_served_to_members_only(cast, kept):
    export_run(job_id=export_queue(draft=kept, by=None).pk)
    version = ChannelVersion.objects.filter(draft=kept).first()
    url = reverse("exports:version-file", args=[version.pk])
    response = cast.client("reviewer").get(url + "?download=1")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"
    assert "attachment" in response["Content-Disposition"]
    assert cast.client("outsider").get(url).status_code == 404


def test_the_packs_page_lists_sizes_and_the_pack_downloads(cast, kept):
    pack = _exported_pack(cast, kept)
    client = cast.client("producer")
    html = client.get(reverse("exports:packs", args=[cast.campaign.pk])).content.decode()
    assert "Download" in html and ("KB" in html or "MB" in html)
    response = client.get(reverse("exports:pack-download", args=[pack.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None
    assert response["Content-Disposition"] == f'attachment; filename="{pack.filename}"'


def test_an_outsider_cannot_download_a_pack_or_use_its_link(cast, kept):
    pack = _exported_pack(cast, kept)
    outsider = cast.client("outsider")
    assert outsider.get(reverse("exports:pack-download", args=[pack.pk])).status_code == 404
    link = reverse("exports:pack-link", args=[pack_link_token(pack, cast.membership("producer"))])
    assert outsider.get(link).status_code == 404  # the membership is checked again
    assert cast.client("reviewer").get(link).status_code == 403
    assert cast.client("producer").get(link).status_code == 200


def test_a_member_without_the_export_right_is_told_who_can_help(cast, kept):
    pack = _exported_pack(cast, kept)
    link = reverse("exports:pack-link", args=[pack_link_token(pack, cast.membership("producer"))])
    response = cast.client("reviewer").get(link)
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="pack-link-refused"' in page
    assert "art_director" in page and "producer" in page and "creator" not in page


def test_a_pack_link_is_only_made_for_members_who_may_export_a_finished_pack(cast, kept):
    pack = _exported_pack(cast, kept)
    outsider = Membership.objects.get(user=cast.outsider)
    for membership in (outsider, cast.membership("reviewer"), cast.membership("creator")):
        with pytest.raises(PermissionDenied):
            pack_link_token(pack, membership)
    Pack.objects.filter(pk=pack.pk).update(status=JobStatus.RUNNING)
    pack.refresh_from_db()
    with pytest.raises(PermissionDenied, match="not ready"):
        pack_link_token(pack, cast.membership("producer"))


def test_a_pack_link_cannot_be_guessed_forged_or_reused_after_it_expires(cast, kept, settings):
    pack = _exported_pack(cast, kept)
    producer = cast.client("producer")
    token = pack_link_token(pack, cast.membership("producer"))
    guessed = signing.dumps({"pack": pack.pk, "sha": pack.sha256[:16]}, salt="another-salt")
    for bad in (guessed, token[:-2] + "xx", str(pack.pk), "x" * 40):
        assert producer.get(reverse("exports:pack-link", args=[bad])).status_code == 404
    settings.DRAFTROOM_PACK_LINK_SECONDS = -1
    assert producer.get(reverse("exports:pack-link", args=[token])).status_code == 404


def test_an_expired_pack_is_no_longer_served(cast, kept):
    pack = _exported_pack(cast, kept)
    Pack.objects.filter(pk=pack.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    url = reverse("exports:pack-download", args=[pack.pk])
    assert cast.client("producer").get(url).status_code == 404


def test_the_record_page_and_its_json_tell_the_whole_story(cast, kept):
    export_run(job_id=export_queue(draft=kept, by=None).pk)
    client = cast.client("reviewer")
    html = client.get(reverse("exports:record", args=[kept.pk])).content.decode()
    for section in ("1. Brief", "2. Prompt and references", "3. Generated original and edits",
                    "4. Lineage", "5. Decisions", "6. Master", "7. Channel versions"):  # fmt: skip
        assert section in html
    assert html.index("1. Brief") < html.index("7. Channel versions")
    response = client.get(reverse("exports:record-json", args=[kept.pk]))
    record = json.loads(response.content)
    assert record["schema_version"] == 1
    assert record["draft"]["id"] == kept.pk and record["source"]["sha256"] == kept.sha256
    assert {e["preset"] for e in record["exports"]} == {"square", "hero", "hero_wide"}
    assert record["decision"]["current"] == "keep"


def test_the_record_page_names_people_and_its_json_keeps_their_usernames(cast, kept):
    cast.art_director.first_name, cast.art_director.last_name = "Ada", "Director"
    cast.art_director.save(update_fields=["first_name", "last_name"])
    client = cast.client("reviewer")
    html = client.get(reverse("exports:record", args=[kept.pk])).content.decode()
    decision = html[html.index('id="record-decision"') :]
    assert decision.startswith('id="record-decision">Decision: ')
    assert "by Ada Director" in decision[: decision.index("</ol>")]
    assert "by art_director" not in html
    record = json.loads(client.get(reverse("exports:record-json", args=[kept.pk])).content)
    # The JSON is read by machines: a username is an identifier, a full name is not.
    assert record["decision"]["by"] == "art_director"


def test_starting_the_next_batch_from_a_record_opens_its_upload_page(cast, kept):
    response = cast.client("creator").post(reverse("exports:next-batch", args=[kept.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("drafts:upload", args=[cast.campaign.pk]) + "?batch=")


def test_export_posts_need_a_csrf_token(cast, kept):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.producer)
    assert client.post(reverse("exports:export-draft", args=[kept.pk])).status_code == 403


def test_the_record_keeps_every_pass_of_a_multi_pass_graph_labelled(cast, batch):
    sample = Path(__file__).resolve().parent.parent / "workers" / "genmeta_samples"
    draft = make_draft(batch, data=(sample / "unclip_2pass_cropped.png").read_bytes())
    client = cast.client("reviewer")
    html = client.get(reverse("exports:record", args=[draft.pk])).content.decode()
    assert "Pass 2 · dpmpp_sde, node 41" in html
    record = json.loads(client.get(reverse("exports:record-json", args=[draft.pk])).content)
    passes = record["generation"]["passes"]
    assert [p["label"] for p in passes] == [
        "Pass 1 · uni_pc_bh2, node 3",
        "Pass 2 · dpmpp_sde, node 41",
    ]
    assert passes[1]["prompts"] == ["beautiful scenery landscape outdoors mountains"]


def test_a_pack_with_channels_that_cannot_be_made_shows_the_checklist_then_builds_on_choice(
    cast, batch
):
    small = kept_draft(batch, cast.art_director, size=(1200, 900), name="small.jpg")
    client = cast.client("producer")
    url = reverse("exports:pack-create-draft", args=[small.pk])
    response = client.post(url)
    assert response.status_code == 409 and not Pack.objects.exists()
    html = response.content.decode()
    assert "Left out" in html and "Too small" in html
    assert 'name="without_missing" value="1"' in html and "Cancel" in html

    response = client.post(url, {"without_missing": "1"})
    assert response.status_code == 302
    assert Pack.objects.get().draft_id == small.pk


def test_record_dates_are_shown_in_the_time_zone_the_browser_reports(cast, kept):
    client = cast.client("reviewer")
    url = reverse("exports:record", args=[kept.pk])
    assert " UTC" in client.get(url).content.decode()
    client.cookies["tz"] = "Asia/Tokyo"
    html = client.get(url).content.decode()
    assert " JST" in html and " UTC" not in html
    client.cookies["tz"] = "../../etc/passwd"
    assert " UTC" in client.get(url).content.decode()


def test_saving_the_subject_says_which_crops_still_cut_it(cast, kept):
    client = cast.client("producer")
    url = reverse("exports:focal", args=[kept.pk])
    response = client.post(url, {"x": 0, "y": 0, "w": 1, "h": 1}, follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "still cut it" in text and "Square" in text and "every crop" not in text

    response = client.post(url, {"x": 0.45, "y": 0.45, "w": 0.1, "h": 0.1}, follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "every crop keeps it in frame" in text


def test_from_s3_a_pack_goes_to_the_browser_as_a_presigned_url_and_never_to_an_outsider(
    s3_bucket, cast, kept
):
    from urllib.parse import parse_qsl, urlsplit

    pack = _exported_pack(cast, kept)
    assert pack.status == JobStatus.DONE
    download = reverse("exports:pack-download", args=[pack.pk])
    link = reverse("exports:pack-link", args=[pack_link_token(pack, cast.membership("producer"))])
    for url in (download, link):
        response = cast.client("producer").get(url)
        assert response.status_code == 302
        query = dict(parse_qsl(urlsplit(response["Location"]).query))
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        assert query["response-content-type"] == "application/zip"
        assert query["response-content-disposition"] == f'attachment; filename="{pack.filename}"'
    for who, status in (("outsider", 404), ("reviewer", 403)):
        for url in (download, link):
            response = cast.client(who).get(url)
            assert response.status_code == status
            assert "X-Amz" not in response.get("Location", "")
