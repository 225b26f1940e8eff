from __future__ import annotations

import io
import json

import pytest

from apps.api.services import token_create
from apps.drafts.models import Batch, Draft
from tests.api.push_script import load_push
from tests.images import png_bytes


def _folder(tmp_path, count: int):
    folder = tmp_path / "round-2"
    folder.mkdir()
    for i in range(count):
        (folder / f"gen-{i}.png").write_bytes(png_bytes(color=(i * 20, 40, 60)))
        (folder / f"gen-{i}.json").write_text(json.dumps({"prompt": f"tin {i}", "seed": i}))
    return folder


@pytest.mark.django_db(transaction=True)
def test_push_resumes_after_an_interruption_and_stores_each_file_once(
    live_server, cast, tmp_path, monkeypatch
):
    push = load_push()
    _token, secret = token_create(user=cast.creator, name="push", scope="write")
    monkeypatch.setenv("DRAFTROOM_TOKEN", secret)
    folder = _folder(tmp_path, 4)
    args = [str(folder), "--campaign", cast.campaign.name, "--url", live_server.url]

    real_push_file, sent = push.push_file, []

    def interrupted(*a, **kw):
        if len(sent) == 2:
            raise KeyboardInterrupt  # the person pressed Ctrl-C half-way
        sent.append(a[-1])
        return real_push_file(*a, **kw)

    monkeypatch.setattr(push, "push_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        push.main(args, out=io.StringIO())
    assert Draft.objects.filter(campaign=cast.campaign).count() == 2

    monkeypatch.setattr(push, "push_file", real_push_file)
    out = io.StringIO()
    assert push.main(args, out=out) == 0
    drafts = Draft.objects.filter(campaign=cast.campaign)
    assert drafts.count() == 4
    assert Batch.objects.filter(campaign=cast.campaign, source="api").count() == 1
    assert sorted(drafts.values_list("prompt", flat=True)) == [f"tin {i}" for i in range(4)]
    lines = out.getvalue().splitlines()
    assert "(sent before)" in lines[1] and "(sent before)" in lines[2]
    assert lines[3].endswith("added — draft " + str(drafts.order_by("id")[2].pk))
    assert lines[-1] == "Done: 4 added"


@pytest.mark.django_db(transaction=True)
def test_push_reports_a_refused_file_and_exits_1(live_server, cast, tmp_path, monkeypatch):
    push = load_push()
    _token, secret = token_create(user=cast.creator, name="push", scope="write")
    monkeypatch.setenv("DRAFTROOM_TOKEN", secret)
    folder = _folder(tmp_path, 1)
    (folder / "broken.png").write_bytes(b"not a png")
    out = io.StringIO()
    code = push.main(
        [str(folder), "--campaign", str(cast.campaign.pk), "--url", live_server.url], out=out
    )
    assert code == 1
    assert "broken.png: rejected" in out.getvalue()


def test_push_needs_a_token(monkeypatch, tmp_path):
    monkeypatch.delenv("DRAFTROOM_TOKEN", raising=False)
    assert load_push().main([str(tmp_path), "--campaign", "x"]) == 2


@pytest.mark.django_db(transaction=True)
def test_push_waits_for_a_request_an_interrupted_run_left_running(
    live_server, cast, tmp_path, monkeypatch
):
    import hashlib
    from types import SimpleNamespace

    from apps.api.services import idempotent_key_hold, idempotent_key_release

    push = load_push()
    _token, secret = token_create(user=cast.creator, name="push", scope="write")
    monkeypatch.setenv("DRAFTROOM_TOKEN", secret)
    folder = _folder(tmp_path, 1)
    api = push.Api(live_server.url, secret)
    batch = push.batch_for(api, push.find_campaign(api, cast.campaign.name), "round-2")
    # The killed run's upload of that file is still being stored: the server holds its key.
    data = (folder / "gen-0.png").read_bytes()
    key = "push-" + push.key_for(data, str(cast.campaign.pk))
    path = f"/api/v1/batches/{batch['id']}/drafts/"
    fingerprint = hashlib.sha256(f"POST {path}".encode()).hexdigest()
    row, held = idempotent_key_hold(user=cast.creator, key=key, fingerprint=fingerprint)
    assert held
    waits = []

    def wait(seconds):
        waits.append(seconds)
        idempotent_key_release(row=row)  # meanwhile that request ends (it failed): key free

    # Only the script's pauses (the live server shares this process's time module).
    monkeypatch.setattr(push, "time", SimpleNamespace(sleep=wait))
    out = io.StringIO()
    args = [str(folder), "--campaign", cast.campaign.name, "--url", live_server.url]
    assert push.main(args, out=out) == 0
    assert waits == [2.0]  # the server's Retry-After, then the retry acted
    assert Draft.objects.filter(campaign=cast.campaign).count() == 1
    assert out.getvalue().splitlines()[-1] == "Done: 1 added"
