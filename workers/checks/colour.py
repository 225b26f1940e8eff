"""Colour and format facts recorded at intake, each with what it means downstream."""

from __future__ import annotations

from workers.checks.outcomes import PASS, WARN, Outcome

_WIDE_GAMUT = ("p3", "adobe", "prophoto", "rec2020", "rec. 2020", "bt.2020", "wide")


def format_checks(
    *,
    fmt: str,
    mode: str,
    bit_depth: int,
    has_alpha: bool,
    has_icc: bool,
    icc_description: str,
) -> list[Outcome]:
    """Facts about colour and format recorded at intake, each with what it means downstream."""
    out = []
    base = {"RGBA": "RGB", "LA": "L", "PA": "P", "RGBa": "RGB", "La": "L"}.get(mode, mode)
    if base in ("RGB",):
        status, text = PASS, "RGB colour, ready for screen channels."
    elif base in ("L", "I;16", "I", "1", "I;16B", "I;16L", "I;16N"):
        status, text = WARN, "Greyscale: fine if intended; channel exports will be RGB."
    elif base == "CMYK":
        status, text = (
            WARN,
            (
                "CMYK print colours: converted to sRGB for screen channels, so check saturated "
                "colours after conversion."
            ),
        )
    elif base == "P":
        status, text = WARN, "Palette image (256 colours at most): gradients may band."
    else:
        status, text = WARN, f"Unusual colour mode {mode}: converted to RGB for exports."
    out.append(
        Outcome(
            key="colour.mode",
            kind="colour",
            label="Colour mode",
            status=status,
            value=None,
            threshold=None,
            value_label=f"{fmt} · {mode}",
            threshold_label="RGB expected",
            explanation=text,
        )
    )
    out.append(
        Outcome(
            key="colour.alpha",
            kind="colour",
            label="Transparency",
            status=WARN if has_alpha else PASS,
            value=1.0 if has_alpha else 0.0,
            threshold=None,
            value_label="alpha channel" if has_alpha else "opaque",
            threshold_label="opaque expected",
            explanation=(
                "Has transparent areas: JPEG channels flatten them onto the preset background."
                if has_alpha
                else "Opaque: no transparency to handle."
            ),
        )
    )
    description = icc_description.strip()
    lowered = description.lower()
    if not has_icc:
        status, text, shown = PASS, "No colour profile: treated as sRGB.", "none (sRGB)"
    elif "srgb" in lowered or "iec61966" in lowered:
        status, text, shown = PASS, "sRGB profile, as every channel expects.", description
    elif any(word in lowered for word in _WIDE_GAMUT):
        status, text, shown = (
            WARN,
            (
                "Wide-gamut profile: converted to sRGB on export; the most saturated colours will "
                "shift."
            ),
            description,
        )
    else:
        status, text, shown = (
            WARN,
            ("A profile other than sRGB: converted to sRGB on export, so compare colours after."),
            description or "embedded",
        )
    out.append(
        Outcome(
            key="colour.icc",
            kind="colour",
            label="Colour profile",
            status=status,
            value=1.0 if has_icc else 0.0,
            threshold=None,
            value_label=shown[:60],
            threshold_label="sRGB or none",
            explanation=text,
        )
    )
    if bit_depth >= 16:
        status, text = PASS, "16 bits per channel: kept through the upscale, 8-bit for the web."
    elif bit_depth >= 8:
        status, text = PASS, "8 bits per channel, the usual for delivery."
    else:
        status, text = WARN, f"Only {bit_depth} bit(s) per channel: smooth tones will band."
    out.append(
        Outcome(
            key="colour.depth",
            kind="colour",
            label="Bit depth",
            status=status,
            value=float(bit_depth),
            threshold=8.0,
            value_label=f"{bit_depth}-bit",
            threshold_label="8-bit or more",
            explanation=text,
        )
    )
    return out
