"""The deck names the client's latest verdict on each draft."""

from __future__ import annotations

from apps.core.models import JobStatus
from apps.exports.models import PackKind
from apps.exports.runs import pack_run
from apps.exports.services import pack_queue
from apps.sharing.services import client_answer, share_link_create
from tests.exports.builders import kept_draft


def test_the_deck_shows_the_clients_latest_verdict(cast, batch, mocker):
    draft = kept_draft(batch, cast.art_director, size=(1400, 1000))
    link, _ = share_link_create(campaign=cast.campaign, by=cast.producer, title="x", drafts=[draft])
    answer = dict(link=link, draft=draft, name="Ana Client", email="ana@client.example")
    client_answer(**answer, verdict="changes_requested", comment="Warmer")
    client_answer(**answer, verdict="approved")
    client_answer(**answer, verdict="comment", comment="Lovely")  # a comment is not a verdict
    deck = mocker.patch("apps.exports.runs.write_deck", return_value=1)
    pack = pack_queue(campaign=cast.campaign, by=None, kind=PackKind.DECK)
    pack_run(job_id=pack.pk)
    pack.refresh_from_db()
    assert pack.status == JobStatus.DONE, pack.error
    (slide,) = deck.call_args.kwargs["slides"]
    assert any(line.startswith("Client: Approved by Ana Client") for line in slide.lines)
