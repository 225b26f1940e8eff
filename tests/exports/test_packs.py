"""Channel packs and the deck: what is inside, how names are made, and memory while building."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import tracemalloc
import zipfile
from contextlib import contextmanager

import pytest
from django.core.files.storage import default_storage

from apps.campaigns.models import Membership
from apps.core.models import JobStatus
from apps.exports.models import ChannelVersion, Pack, PackKind
from apps.exports.runs import export_run, pack_run
from apps.exports.services import export_queue, pack_queue
from apps.reviews.models import RegionCategory
from apps.reviews.services import review_sign_off, review_submit
from tests.exports.builders import kept_draft
from tests.factories import BatchFactory, make_draft
from tests.images import HOSTILE_FILENAME, encode_jpeg, pattern_image
from workers.packs import (
    MANIFEST_NAME,
    PackError,
    PackMember,
    Slide,
    safe_member_name,
    write_deck,
    write_pack,
)


def _exported(cast, batch, **kw):
    draft = kept_draft(batch, cast.art_director, **kw)
    export_run(job_id=export_queue(draft=draft, by=cast.producer).pk)
    return draft


def _built(pack):
    pack_run(job_id=pack.pk)
    pack.refresh_from_db()
    assert pack.status == JobStatus.DONE, pack.error
    with default_storage.open(pack.output_key, "rb") as fh:
        return fh.read()


def test_the_manifest_matches_every_file_in_the_pack(cast, batch):
    draft = _exported(cast, batch)
    review_submit(
        draft=draft,
        reviewer=cast.reviewer,
        decision="keep",
        note="Label sharp enough",
        regions=[{"category": RegionCategory.values[0], "note": "logo", "x": 0.1, "y": 0.1,
                  "w": 0.2, "h": 0.2}],
    )  # fmt: skip
    pack = pack_queue(campaign=cast.campaign, draft=draft, by=cast.producer)
    data = _built(pack)
    assert hashlib.sha256(data).hexdigest() == pack.sha256 and len(data) == pack.byte_size

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read(MANIFEST_NAME))
        assert manifest["schema_version"] == 1
        listed = {f["name"]: f for f in manifest["files"]}
        assert set(listed) | {MANIFEST_NAME} == set(names)
        assert pack.file_count == len(names)
        for name, entry in listed.items():
            body = archive.read(name)
            assert hashlib.sha256(body).hexdigest() == entry["sha256"]
            assert len(body) == entry["bytes"]

    versions = ChannelVersion.objects.filter(draft=draft)
    exports = [f for f in manifest["files"] if f["role"] == "export"]
    assert len(exports) == versions.count() == 3  # square, hero, hero_wide
    for entry in exports:
        version = versions.get(preset__slug=entry["preset"])
        assert entry["sha256"] == version.sha256
        assert entry["crop_box"] == version.crop.as_list()
        assert (entry["width"], entry["height"]) == (version.width, version.height)
    source = next(f for f in manifest["files"] if f["role"] == "source")
    assert source["sha256"] == draft.sha256

    (asset,) = manifest["assets"]
    assert manifest["campaign"]["name"] == "Fjell summer"
    assert manifest["campaign"]["brief"] == "Launch the new flavour."
    assert asset["draft"]["id"] == draft.pk
    assert asset["generation"].keys() >= {"prompt", "negative_prompt", "generator", "seed"}
    assert asset["lineage"][-1]["is_this"] is True
    assert [r["reviewer"] for r in asset["reviews"]] == ["reviewer", "art_director"]
    assert asset["regions"][0]["note"] == "logo"
    assert asset["master"]["source"] == "original"
    assert asset["master"]["upscale_weights_sha256"] is None
    assert {e["preset"] for e in asset["exports"]} == {"square", "hero", "hero_wide"}


def test_a_hostile_upload_name_becomes_a_short_ascii_title_inside_the_packs_own_folders(
    cast, batch
):
    draft = _exported(cast, batch, name=HOSTILE_FILENAME)
    data = _built(pack_queue(campaign=cast.campaign, draft=draft, by=None))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            assert re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", name), name
            if name == MANIFEST_NAME:
                continue
            folder, file_name = name.split("/")  # no folder of the upload's reaches the zip
            assert folder in {"source", "exports"}
            assert "passwd" not in name and "<" not in name and len(file_name) < 120
            assert f"-d{draft.pk}_" in file_name


def test_a_campaign_pack_has_a_folder_per_kept_draft(cast, batch):
    first = _exported(cast, batch, size=(1400, 1000))
    second = _exported(cast, batch, size=(1500, 1000))
    data = _built(pack_queue(campaign=cast.campaign, by=None, without_missing=True))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        folders = {name.split("/")[0] for name in archive.namelist() if "/" in name}
        manifest = json.loads(archive.read(MANIFEST_NAME))
    assert folders == {f"can-d{first.pk}", f"can-d{second.pk}"}  # the title, then the id
    assert [a["draft"]["id"] for a in manifest["assets"]] == [first.pk, second.pk]
    assert manifest["pack"]["scope"] == "campaign"


def test_the_deck_has_a_title_page_and_one_page_per_kept_draft(cast, batch):
    for size in ((1400, 1000), (1500, 1000), (1600, 1000)):
        _exported(cast, batch, size=size)
    pack = pack_queue(campaign=cast.campaign, by=None, kind=PackKind.DECK)
    data = _built(pack)
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 4
    assert pack.filename.endswith(".pdf")


UNICODE_LINE = "新しい味 — Новый вкус — Νέα γεύση"


def _deck_text(data: bytes) -> str:
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    # Runs in different fonts may come out on separate lines: compare without whitespace.
    return "".join("".join(page.extract_text().split()) for page in pages)


def test_the_deck_renders_chinese_japanese_cyrillic_and_greek_text(tmp_path):
    out = io.BytesIO()
    write_deck(out, title=UNICODE_LINE, subtitle=[UNICODE_LINE], slides=[
        Slide(title="Можно", lines=[f"Prompt: {UNICODE_LINE}"], image=None)
    ])  # fmt: skip
    text = _deck_text(out.getvalue())
    assert text.count("".join(UNICODE_LINE.split())) == 3
    assert "?" not in text
    assert b"NotoSans" in out.getvalue()  # the Unicode font is embedded, not assumed


def test_a_campaign_deck_keeps_a_unicode_key_message(cast, batch):
    cast.campaign.key_message = UNICODE_LINE
    cast.campaign.save(update_fields=["key_message"])
    _exported(cast, batch)
    data = _built(pack_queue(campaign=cast.campaign, by=None, kind=PackKind.DECK))
    assert "".join(UNICODE_LINE.split()) in _deck_text(data)


def test_a_pack_row_naming_another_campaigns_draft_is_refused_by_the_worker(cast, batch):
    mine = _exported(cast, batch, size=(1400, 1000))
    theirs = make_draft(BatchFactory(campaign=cast.other_campaign), name="secret.png")
    pack = pack_queue(campaign=cast.campaign, by=cast.producer, draft=mine, without_missing=True)
    Pack.objects.filter(pk=pack.pk).update(spec={"draft_ids": [mine.pk, theirs.pk]})
    pack_run(job_id=pack.pk)
    pack.refresh_from_db()
    assert pack.status == JobStatus.FAILED and "not in this campaign" in pack.error
    assert pack.output_key == "" and not default_storage.exists(
        f"campaigns/{cast.campaign.pk}/packs"
    )


@pytest.mark.parametrize("spec", [{"draft_ids": "1,2"}, {"draft_ids": [1.5]}, {}, {"x": 1}])
def test_a_pack_row_with_a_malformed_draft_list_fails_clearly(cast, batch, spec):
    mine = _exported(cast, batch, size=(1400, 1000))
    pack = pack_queue(campaign=cast.campaign, by=cast.producer, draft=mine, without_missing=True)
    Pack.objects.filter(pk=pack.pk).update(spec=spec)
    pack_run(job_id=pack.pk)
    pack.refresh_from_db()
    assert pack.status == JobStatus.FAILED and "malformed" in pack.error


def test_a_pack_asked_for_by_someone_since_demoted_is_not_built(cast, batch):
    mine = _exported(cast, batch, size=(1400, 1000))
    pack = pack_queue(campaign=cast.campaign, by=cast.producer, draft=mine, without_missing=True)
    Membership.objects.filter(user=cast.producer).update(role="reviewer")
    pack_run(job_id=pack.pk)
    pack.refresh_from_db()
    assert pack.status == JobStatus.FAILED and "cannot export" in pack.error


def test_an_export_asked_for_by_someone_who_left_is_not_rendered(cast, batch):
    draft = kept_draft(batch, cast.art_director, size=(1400, 1000))
    job = export_queue(draft=draft, by=cast.producer)
    Membership.objects.filter(user=cast.producer).delete()
    export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no longer a member" in job.error
    assert not ChannelVersion.objects.filter(draft=draft).exists()


def test_no_pack_without_kept_drafts(cast, batch):
    from apps.core.errors import Refusal

    with pytest.raises(Refusal, match="No kept drafts"):
        pack_queue(campaign=cast.campaign, by=None)


# --- the writer itself -------------------------------------------------------------------------


class _Generated(io.RawIOBase):
    """A stream of ``size`` pseudo-random bytes made on the fly (like a storage download)."""

    def __init__(self, size: int, seed: int) -> None:
        self.left, self.random = size, random.Random(seed)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return self.random.randbytes(n)


def test_a_pack_of_many_files_is_built_in_bounded_memory(tmp_path):
    count, size = 48, 2 * 1024 * 1024  # 96 MiB of members

    def member(i):
        @contextmanager
        def opener():
            yield _Generated(size, i)

        return PackMember(name=f"exports/file-{i}.jpg", open=opener, meta={"i": i})

    tracemalloc.start()
    try:
        with (tmp_path / "big.zip").open("wb") as out:
            summary = write_pack(out, (member(i) for i in range(count)), {"what": "test"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert (tmp_path / "big.zip").stat().st_size > count * size
    assert len(summary.members) == count
    with zipfile.ZipFile(tmp_path / "big.zip") as archive:
        info = archive.getinfo("exports/file-7.jpg")
        assert info.file_size == size
        digest = hashlib.sha256(archive.read("exports/file-7.jpg")).hexdigest()
    assert digest == summary.members[7].sha256


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "etc/passwd"),
        ("/abs/path.jpg", "abs/path.jpg"),
        ("exports\\win\\name.png", "exports/win/name.png"),
        ("déjà vu <script>.jpg", "d-j-vu-script-.jpg"),
    ],
)
def test_member_names_are_made_safe(raw, safe):
    assert safe_member_name(raw) == safe


def test_two_members_with_one_name_are_refused(tmp_path):
    @contextmanager
    def opener():
        yield io.BytesIO(b"x")

    members = [PackMember("a.txt", opener), PackMember("a.txt", opener)]
    with pytest.raises(PackError), (tmp_path / "x.zip").open("wb") as out:
        write_pack(out, members, {})


def test_images_are_stored_and_text_is_deflated(tmp_path):
    @contextmanager
    def opener():
        yield io.BytesIO(encode_jpeg(pattern_image((64, 64))))

    with (tmp_path / "x.zip").open("wb") as out:
        write_pack(out, [PackMember("a.jpg", opener)], {})
    with zipfile.ZipFile(tmp_path / "x.zip") as archive:
        assert archive.getinfo("a.jpg").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo(MANIFEST_NAME).compress_type == zipfile.ZIP_DEFLATED


def test_the_deck_names_the_sign_off_and_the_channels_not_yet_made(cast, batch):
    # Names, not logins: the deck is read by the client's art director.
    for person, first, last in (
        (cast.reviewer, "Rhea", "Reviewer"),
        (cast.art_director, "Ada", "Director"),
    ):
        person.first_name, person.last_name = first, last
        person.save(update_fields=["first_name", "last_name"])
    draft = make_draft(batch, name="fjord.jpg", data=encode_jpeg(pattern_image((2600, 2100))))
    review_submit(draft=draft, reviewer=cast.reviewer, decision="keep")
    review_sign_off(draft=draft, by=cast.art_director)
    text = _deck_text(_built(pack_queue(campaign=cast.campaign, by=None, kind=PackKind.DECK)))
    assert "KeepbyRheaReviewer" in text and "signedoffbyAdaDirector" in text
    assert "Channels:noneyet" in text
    assert "Missing:Square1:1,Herobanner3:1,Herobanner21:9" in text
