"""Custom ESRGAN-family checkpoints through spandrel: detection, refusal, import, and runs.

Small random-weight checkpoints of each architecture offered, in .pth (bare and wrapped, old
ESRGAN and basicsr key layouts) and .safetensors (tests/upscales/custom_checkpoints.py)."""

from __future__ import annotations

import stat

import numpy as np
import pytest

from tests.images import encode_png, pattern_image
from tests.upscales.builders import requires_upscaler
from tests.upscales.custom_checkpoints import write
from workers.upscale.pipeline import UpscaleConfig


@pytest.fixture(autouse=True)
def _needs_upscaler():
    requires_upscaler()
    pytest.importorskip("spandrel")


@pytest.mark.parametrize(
    ("kind", "fmt", "wrap", "arch", "scale", "multiple"),
    [
        ("esrgan-old", "pth", "", "ESRGAN", 4, 1),
        ("esrgan-old", "safetensors", "", "ESRGAN", 4, 1),
        ("esrgan-new", "pth", "params_ema", "ESRGAN", 4, 1),
        ("esrgan-new", "safetensors", "", "ESRGAN", 4, 1),
        ("esrgan-new-x2", "pth", "params_ema", "ESRGAN", 2, 4),
        ("compact", "pth", "params", "Compact", 4, 1),
        ("compact", "safetensors", "", "Compact", 4, 1),
        ("swinir", "pth", "params", "SwinIR", 2, 1),
        ("swinir", "safetensors", "", "SwinIR", 2, 1),
    ],
)
def test_a_supported_checkpoint_is_imported_with_its_architecture_scale_and_hash(
    tmp_path, kind, fmt, wrap, arch, scale, multiple
):
    from workers.upscale.custom import custom_models, get_custom, import_custom
    from workers.upscale.registry import file_sha256

    source = write(kind, tmp_path / "incoming", fmt=fmt, wrap=wrap)
    models = tmp_path / "models"
    model = import_custom(
        models, name="team-model", source=source, licence="CC-BY-NC 4.0", description="ours"
    )
    assert (model.architecture, model.scale, model.input_channels) == (arch, scale, 3)
    assert model.multiple_of == multiple
    assert model.sha256 == file_sha256(source) and model.source_name == source.name
    installed = models / model.filename
    assert installed.name == f"team-model.{fmt}"
    assert stat.S_IMODE(installed.stat().st_mode) == 0o644, "a worker of another user reads it"
    assert not list((models / "custom").glob(".*")), "no temporary copy left behind"
    assert get_custom(models, "team-model") == model
    assert [m.name for m in custom_models(models)] == ["team-model"]
    assert model.licence == "CC-BY-NC 4.0" and model.description == "ours"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("esrgan-1x", r"is a ESRGAN Restoration model, not a super-resolution one"),
        ("grey", r"takes 1 and gives 1 channels; the upscaler needs an RGB network"),
        ("unknown", r"is not a model architecture Draftroom can run"),
    ],
)
def test_what_is_not_an_rgb_upscaler_is_refused_with_a_message_naming_the_file(
    tmp_path, kind, message
):
    from workers.upscale.custom import CustomModelError, import_custom

    source = write(kind, tmp_path, stem="my-model")
    with pytest.raises(CustomModelError, match=message) as caught:
        import_custom(tmp_path / "models", name="mine", source=source)
    assert str(caught.value).startswith("my-model.pth ")
    assert not list((tmp_path / "models" / "custom").iterdir()), "nothing installed"


def test_a_pickle_with_code_is_never_unpickled(tmp_path):
    import torch
    from PIL import Image

    from workers.upscale.custom import CustomModelError, import_custom

    source = tmp_path / "evil.pth"
    torch.save({"params": {"x": torch.zeros(1)}, "hook": Image.Image}, source)
    with pytest.raises(CustomModelError, match=r"^evil\.pth is not a readable weights file"):
        import_custom(tmp_path / "models", name="evil", source=source)


@pytest.mark.parametrize("name", ["x4plus", "classical", "Bad Name", "-x", "a" * 41])
def test_names_of_built_in_models_and_odd_names_are_refused(tmp_path, name):
    from workers.upscale.custom import CustomModelError, import_custom

    source = write("compact", tmp_path)
    with pytest.raises(CustomModelError, match="name"):
        import_custom(tmp_path / "models", name=name, source=source)


@pytest.mark.parametrize(("kind", "fmt"), [("esrgan-old", "pth"), ("swinir", "safetensors")])
def test_a_custom_model_upscales_through_the_engine_and_records_its_hash(tmp_path, kind, fmt):
    """One tile: the engine's output is the spandrel network on the reflected image, cropped
    (the border rule holds for custom models too)."""
    import torch
    import torch.nn.functional as F

    from workers.upscale import upscale_image
    from workers.upscale.custom import build_custom_network, import_custom

    models = tmp_path / "models"
    model = import_custom(models, name="team", source=write(kind, tmp_path, fmt=fmt))
    source = np.asarray(pattern_image((30, 22)))
    result = upscale_image(
        encode_png(pattern_image((30, 22))), model=model.spec(),
        config=UpscaleConfig(models_dir=models),
    )  # fmt: skip
    assert result.neural and result.model_name == "team"
    assert result.weights_sha256 == model.sha256
    s = model.scale
    assert result.pixels.shape == (22 * s, 30 * s, 3)
    network = build_custom_network(models / model.filename).eval()
    x = torch.from_numpy(source.copy()).permute(2, 0, 1)[None].float() / 255
    with torch.inference_mode():
        y = network(F.pad(x, (10, 10, 10, 10), mode="reflect"))[
            0, :, 10 * s : 32 * s, 10 * s : 40 * s
        ]
    plain = (y.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    assert np.abs(result.pixels.astype(int) - plain.astype(int)).max() <= 1


def test_a_custom_file_changed_after_import_is_refused_with_what_to_do(tmp_path):
    from workers.upscale import upscale_image
    from workers.upscale.custom import import_custom
    from workers.upscale.weights import WeightsError, clear_cache

    models = tmp_path / "models"
    model = import_custom(models, name="team", source=write("compact", tmp_path))
    clear_cache()
    write("esrgan-new", models / "custom", stem="team")  # swapped under the same name
    with pytest.raises(WeightsError, match=r"the file changed after import\. Import it again"):
        upscale_image(
            pattern_image((12, 8)), model=model.spec(), config=UpscaleConfig(models_dir=models)
        )
