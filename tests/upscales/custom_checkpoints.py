"""Small checkpoints of each custom-model architecture Draftroom offers, random weights, in
the layouts community files use; plus ones it must refuse. Nothing downloads."""

from __future__ import annotations

from pathlib import Path


def _state(kind: str) -> dict:
    import torch

    torch.manual_seed(0)
    if kind == "esrgan-old":  # the original ESRGAN keys: model.0, model.1.sub.N.RDB1 ...
        from spandrel.architectures.ESRGAN import ESRGAN

        return ESRGAN(in_nc=3, out_nc=3, num_filters=16, num_blocks=1, scale=4).state_dict()
    if kind in ("esrgan-new", "esrgan-new-x2"):  # basicsr's keys (Real-ESRGAN's releases)
        from basicsr.archs.rrdbnet_arch import RRDBNet

        from workers.upscale.archs import install_functional_tensor_alias

        install_functional_tensor_alias()
        # spandrel reads ESRGAN's growth channels as 32, as every published model has them.
        scale = 2 if kind == "esrgan-new-x2" else 4
        return RRDBNet(3, 3, scale=scale, num_feat=16, num_block=1, num_grow_ch=32).state_dict()
    if kind == "compact":
        from tests.upscales.builders import small_spec
        from workers.upscale.archs import build_network

        return build_network(small_spec("general-x4v3")).state_dict()
    if kind == "swinir":
        from spandrel.architectures.SwinIR import SwinIR

        return SwinIR(
            img_size=16, in_chans=3, embed_dim=12, depths=[1], num_heads=[2], window_size=4,
            mlp_ratio=2.0, upscale=2, img_range=1.0, upsampler="pixelshuffle",
            resi_connection="1conv",
        ).state_dict()  # fmt: skip
    if kind == "esrgan-1x":  # a 1× "restoration" model (de-JPEG and the like): not an upscaler
        from spandrel.architectures.ESRGAN import ESRGAN

        return ESRGAN(in_nc=3, out_nc=3, num_filters=16, num_blocks=1, scale=1).state_dict()
    if kind == "grey":  # a one-channel ESRGAN
        from spandrel.architectures.ESRGAN import ESRGAN

        return ESRGAN(in_nc=1, out_nc=1, num_filters=16, num_blocks=1, scale=4).state_dict()
    if kind == "unknown":
        import torch

        return {"encoder.weight": torch.zeros(4, 4), "decoder.weight": torch.zeros(4, 4)}
    raise ValueError(kind)


def write(kind: str, directory: Path, *, fmt: str = "pth", wrap: str = "", stem: str = "") -> Path:
    """Save the ``kind`` checkpoint as ``.pth`` (optionally wrapped, e.g. ``params_ema``) or
    ``.safetensors``; return its path."""
    import torch

    state = {k: v.contiguous() for k, v in _state(kind).items()}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem or kind}.{fmt}"
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save({wrap: state} if wrap else state, path)
    return path
