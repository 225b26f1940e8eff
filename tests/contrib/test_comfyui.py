"""The ComfyUI node's HTTP part against a live Draftroom server (Django's live server)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from apps.api.services import token_create
from apps.drafts.models import Draft

NODE = Path(__file__).resolve().parents[2] / "contrib" / "comfyui" / "draftroom_save"


def load_client():
    spec = importlib.util.spec_from_file_location("draftroom_save_client", NODE / "client.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def comfy_png() -> bytes:
    import io

    graph = {
        "3": {
            "class_type": "KSampler",
            "inputs": {"seed": 777, "steps": 20, "cfg": 7.0, "sampler_name": "euler",
                       "scheduler": "normal", "denoise": 1.0, "positive": ["6", 0],
                       "negative": ["7", 0], "model": ["4", 0], "latent_image": ["5", 0]},
        },
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
        "5": {"class_type": "EmptyLatentImage",
              "inputs": {"width": 64, "height": 48, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode",
              "inputs": {"text": "a red tin on snow", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    }  # fmt: skip
    info = PngInfo()
    info.add_text("prompt", json.dumps(graph))
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_node_posts_an_image_with_its_workflow_once(live_server, cast):
    client = load_client()
    _token, secret = token_create(user=cast.creator, name="comfy", scope="write")
    batch_id = client.batch_for(live_server.url, secret, campaign_id=cast.campaign.pk, name="Comfy")
    assert client.batch_for(
        live_server.url, secret, campaign_id=cast.campaign.pk, name="Comfy"
    ) == (batch_id)
    png = comfy_png()
    first = client.post_image(
        live_server.url, secret, batch_id=batch_id, png=png, name="comfy_00000.png",
        metadata={"generator": "ComfyUI"},
    )  # fmt: skip
    again = client.post_image(live_server.url, secret, batch_id=batch_id, png=png, name="x.png")
    assert first["status"] == "added" and again["draft_id"] == first["draft_id"]
    draft = Draft.objects.get(pk=first["draft_id"])
    assert (draft.prompt, draft.seed, draft.generator) == ("a red tin on snow", 777, "ComfyUI")


@pytest.mark.django_db(transaction=True)
def test_the_node_reports_a_refusal(live_server, cast):
    client = load_client()
    _token, secret = token_create(user=cast.reviewer, name="comfy", scope="write")
    with pytest.raises(client.DraftroomError, match="cannot make the batch"):
        client.batch_for(live_server.url, secret, campaign_id=cast.campaign.pk, name="Comfy")


@pytest.mark.django_db(transaction=True)
def test_the_node_waits_while_an_earlier_try_of_the_same_upload_is_still_stored(
    live_server, cast, monkeypatch
):
    import hashlib
    from types import SimpleNamespace

    from apps.api.services import idempotent_key_hold, idempotent_key_release

    client = load_client()
    _token, secret = token_create(user=cast.creator, name="comfy", scope="write")
    batch_id = client.batch_for(live_server.url, secret, campaign_id=cast.campaign.pk, name="Comfy")
    png = comfy_png()
    key = "comfyui-" + hashlib.sha256(png + f"\0{batch_id}".encode()).hexdigest()
    path = f"/api/v1/batches/{batch_id}/drafts/"
    row, _ = idempotent_key_hold(
        user=cast.creator, key=key, fingerprint=hashlib.sha256(f"POST {path}".encode()).hexdigest()
    )
    waits = []

    def wait(seconds):
        waits.append(seconds)
        idempotent_key_release(row=row)  # the earlier try ended without storing it

    monkeypatch.setattr(client, "time", SimpleNamespace(sleep=wait))
    answer = client.post_image(live_server.url, secret, batch_id=batch_id, png=png, name="c.png")
    assert waits == [2.0] and answer["status"] == "added"
    assert Draft.objects.filter(campaign=cast.campaign).count() == 1
