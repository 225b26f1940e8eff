"""Procedural "AI drafts" for the demo campaign of the fictional brand Fjell Sparkling.

The pictures are drawn here with Pillow (no downloads, no model), deterministically, and carry an
Automatic1111-style ``parameters`` chunk so that metadata extraction has something to show.
Some drafts are deliberately flawed so that a demo reviewer has real decisions to make.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from PIL.PngImagePlugin import PngInfo

RGB = tuple[int, int, int]

BRAND = "Fjell Sparkling"
MODEL_NAME = "sdxl-demo"
NEGATIVE_PROMPT = (
    "blurry, low quality, deformed can, misspelled label, garbled text, watermark, "
    "extra products, harsh shadows, oversaturated"
)
_SAMPLERS = ("DPM++ 2M Karras", "Euler a", "DPM++ SDE Karras", "DDIM")
_BASE_SEED = 20_240_611


@dataclass(frozen=True)
class DemoDraft:
    filename: str
    data: bytes
    prompt: str
    negative_prompt: str
    seed: int


@dataclass(frozen=True)
class _Palette:
    sky_top: RGB
    sky_bottom: RGB
    floor_top: RGB
    floor_bottom: RGB
    mountain_far: RGB
    mountain_near: RGB
    body: RGB
    label: RGB
    ink: RGB
    accent: RGB


@dataclass(frozen=True)
class _Recipe:
    slug: str
    product: str  # "can", "bottle" or "duo"
    scenery: str  # "mountains", "citrus" or "ice"
    palette: _Palette
    flavour: str
    prompt: str
    flaw: str = ""  # "", "off_centre", "soft", "small" or "off_brand"


_FJORD = _Palette(
    sky_top=(24, 58, 96),
    sky_bottom=(168, 205, 226),
    floor_top=(222, 236, 242),
    floor_bottom=(150, 186, 204),
    mountain_far=(120, 160, 190),
    mountain_near=(64, 104, 140),
    body=(28, 86, 130),
    label=(244, 248, 251),
    ink=(22, 52, 84),
    accent=(242, 201, 76),
)
_MORNING = _Palette(
    sky_top=(250, 214, 170),
    sky_bottom=(255, 244, 226),
    floor_top=(246, 232, 210),
    floor_bottom=(214, 190, 160),
    mountain_far=(226, 190, 170),
    mountain_near=(190, 150, 140),
    body=(28, 86, 130),
    label=(244, 248, 251),
    ink=(22, 52, 84),
    accent=(242, 201, 76),
)
_MINT = _Palette(
    sky_top=(196, 236, 226),
    sky_bottom=(240, 250, 246),
    floor_top=(226, 244, 238),
    floor_bottom=(170, 214, 200),
    mountain_far=(160, 212, 200),
    mountain_near=(110, 176, 162),
    body=(40, 120, 112),
    label=(244, 248, 251),
    ink=(20, 70, 66),
    accent=(150, 200, 70),
)
_NIGHT = _Palette(
    sky_top=(8, 14, 36),
    sky_bottom=(40, 62, 110),
    floor_top=(52, 70, 104),
    floor_bottom=(14, 22, 44),
    mountain_far=(46, 66, 108),
    mountain_near=(24, 36, 66),
    body=(28, 86, 130),
    label=(244, 248, 251),
    ink=(22, 52, 84),
    accent=(120, 220, 200),
)
_ICE = _Palette(
    sky_top=(214, 232, 244),
    sky_bottom=(250, 252, 254),
    floor_top=(236, 244, 250),
    floor_bottom=(190, 214, 232),
    mountain_far=(200, 220, 236),
    mountain_near=(160, 190, 214),
    body=(28, 86, 130),
    label=(244, 248, 251),
    ink=(22, 52, 84),
    accent=(242, 201, 76),
)
# Deliberately off-brand: Fjell's guidelines are cool blues and white, never magenta.
_OFF_BRAND = _Palette(
    sky_top=(90, 20, 80),
    sky_bottom=(250, 120, 90),
    floor_top=(252, 170, 120),
    floor_bottom=(200, 80, 90),
    mountain_far=(210, 100, 130),
    mountain_near=(150, 50, 100),
    body=(214, 36, 110),
    label=(255, 200, 60),
    ink=(110, 20, 60),
    accent=(255, 140, 0),
)

_RECIPES: tuple[_Recipe, ...] = (
    _Recipe(
        "hero-can",
        "can",
        "mountains",
        _FJORD,
        "Glacier Lemon",
        "studio product shot of a Fjell Sparkling glacier lemon can, snowy Norwegian "
        "mountains behind, deep fjord-blue gradient backdrop, soft shadow, crisp label, "
        "commercial photography, 85mm",
    ),
    _Recipe(
        "bottle-citrus",
        "bottle",
        "citrus",
        _MORNING,
        "Lemon & Birch",
        "glass bottle of Fjell Sparkling lemon and birch water, fresh lemon slices, warm "
        "morning light, cream backdrop, minimal composition, advertising photo",
    ),
    _Recipe(
        "duo-mint",
        "duo",
        "citrus",
        _MINT,
        "Lime & Mint",
        "two Fjell Sparkling cans, lime and mint flavours, pastel mint backdrop, lime "
        "slices, playful summer mood, clean product photography",
    ),
    _Recipe(
        "crop-right",
        "can",
        "mountains",
        _FJORD,
        "Glacier Lemon",
        "Fjell Sparkling can on the right of frame, mountain panorama, blue hour, "
        "editorial product photo",
        flaw="off_centre",
    ),
    _Recipe(
        "soft-focus",
        "bottle",
        "mountains",
        _MORNING,
        "Cloudberry",
        "Fjell Sparkling cloudberry bottle, dreamy alpine sunrise, soft haze, "
        "lifestyle photography",
        flaw="soft",
    ),
    _Recipe(
        "social-square",
        "can",
        "ice",
        _ICE,
        "Arctic Original",
        "Fjell Sparkling original can on crushed ice, bright white studio, bubbles, "
        "social media square",
        flaw="small",
    ),
    _Recipe(
        "neon-punch",
        "can",
        "citrus",
        _OFF_BRAND,
        "Blood Orange",
        "Fjell Sparkling blood orange can, bold magenta and orange gradient, citrus "
        "slices, pop art product shot",
        flaw="off_brand",
    ),
    _Recipe(
        "night-peaks",
        "can",
        "mountains",
        _NIGHT,
        "Northern Lights",
        "Fjell Sparkling can under a starry night sky, moonlit peaks, cinematic rim "
        "light, premium product photo",
    ),
    _Recipe(
        "bottle-ice",
        "bottle",
        "ice",
        _ICE,
        "Arctic Original",
        "tall Fjell Sparkling glass bottle in ice cubes, cold condensation, white "
        "backdrop, high-key product photography",
    ),
    _Recipe(
        "duo-alps",
        "duo",
        "mountains",
        _MORNING,
        "Lemon & Cloudberry",
        "pair of Fjell Sparkling cans in front of sunlit mountains, warm pastel sky, "
        "summer campaign key visual",
    ),
)


def render_demo_drafts(count: int = 10, size: tuple[int, int] = (1024, 1024)) -> list[DemoDraft]:
    """Render ``count`` PNG drafts; the "small" draft is half of ``size`` (512x512 by default)."""
    if count < 0:
        raise ValueError("count must not be negative")
    drafts = []
    for index in range(count):
        recipe = _RECIPES[index % len(_RECIPES)]
        seed = _BASE_SEED + 7919 * index
        rng = random.Random(seed)
        draft_size = (
            (max(64, size[0] // 2), max(64, size[1] // 2)) if recipe.flaw == "small" else size
        )
        image = _render(recipe, draft_size, rng)
        steps = rng.choice((28, 30, 32, 36, 40))
        sampler = rng.choice(_SAMPLERS)
        cfg = rng.choice((5.5, 6, 6.5, 7, 7.5))
        parameters = (
            f"{recipe.prompt}\nNegative prompt: {NEGATIVE_PROMPT}\n"
            f"Steps: {steps}, Sampler: {sampler}, CFG scale: {cfg}, Seed: {seed}, "
            f"Size: {draft_size[0]}x{draft_size[1]}, Model: {MODEL_NAME}"
        )
        drafts.append(
            DemoDraft(
                filename=f"fjell-draft-{index + 1:02d}-{recipe.slug}.png",
                data=_encode(image, parameters),
                prompt=recipe.prompt,
                negative_prompt=NEGATIVE_PROMPT,
                seed=seed,
            )
        )
    return drafts


def _encode(image: Image.Image, parameters: str) -> bytes:
    info = PngInfo()
    info.add_text("parameters", parameters)
    buffer = io.BytesIO()
    # Level 1 is several times faster than the default and only slightly larger for these
    # smooth gradients; demo seeding speed matters more than bytes.
    image.save(buffer, "PNG", pnginfo=info, compress_level=1)
    return buffer.getvalue()


# --- scene -----------------------------------------------------------------------------------


def _render(recipe: _Recipe, size: tuple[int, int], rng: random.Random) -> Image.Image:
    width, height = size
    palette = recipe.palette
    horizon = int(height * rng.uniform(0.64, 0.72))
    image = _vertical_gradient(size, palette.sky_top, palette.sky_bottom)
    floor = _vertical_gradient((width, height - horizon), palette.floor_top, palette.floor_bottom)
    image.paste(floor, (0, horizon))

    if recipe.scenery == "mountains" or palette is _NIGHT:
        _draw_sky_light(image, palette, rng, night=palette is _NIGHT)
        _draw_mountains(image, horizon, palette, rng)
    elif recipe.scenery == "ice":
        _draw_ice(image, horizon, rng)

    scale = min(width, height) / 1024
    if recipe.flaw == "off_centre":
        # The can is pushed off the right edge and its top is cut: a composition to reject.
        centre_x, base_y, can_height = int(width * 0.92), int(height * 1.02), int(height * 0.8)
    else:
        centre_x = int(width * rng.uniform(0.46, 0.54))
        base_y = horizon + int(height * rng.uniform(0.10, 0.16))
        can_height = int(height * rng.uniform(0.46, 0.54))

    products: list[tuple[str, int, int]] = []
    if recipe.product == "duo":
        gap = int(can_height * 0.26)
        products = [
            ("can", centre_x - gap, int(can_height * 0.92)),
            ("can", centre_x + gap, can_height),
        ]
    else:
        products = [(recipe.product, centre_x, can_height)]

    for kind, x, product_height in products:
        product_width = int(product_height * (0.42 if kind == "can" else 0.34))
        _draw_shadow(image, x, base_y, product_width, rng)
    for index, (kind, x, product_height) in enumerate(products):
        flavour = recipe.flavour.split(" & ")[index] if " & " in recipe.flavour else recipe.flavour
        if kind == "bottle":
            _draw_bottle(image, x, base_y, product_height, palette, flavour)
        else:
            _draw_can(image, x, base_y, product_height, palette, flavour)

    if recipe.scenery == "citrus":
        _draw_citrus(image, horizon, palette, rng, scale)
    _draw_bubbles(image, rng, scale)

    if recipe.flaw == "soft":
        image = _soften(image)
    return image


def _vertical_gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _draw_sky_light(image: Image.Image, palette: _Palette, rng: random.Random, night: bool) -> None:
    width, height = image.size
    radius = int(min(width, height) * (0.07 if night else 0.12))
    cx, cy = int(width * rng.uniform(0.2, 0.8)), int(height * rng.uniform(0.14, 0.28))
    glow_radius = radius * 4
    glow = Image.radial_gradient("L").resize((glow_radius * 2, glow_radius * 2))
    # radial_gradient reaches 181 at the middle of each edge (255 only in the corners), so the
    # falloff has to end there or the glow shows a square outline.
    glow = glow.point(lambda value: int(170 * max(0.0, 1 - value / 181) ** 2))
    light = (236, 240, 255) if night else _mix(palette.sky_bottom, (255, 250, 230), 0.7)
    image.paste(Image.new("RGB", glow.size, light), (cx - glow_radius, cy - glow_radius), glow)
    ImageDraw.Draw(image).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=light)
    if night:
        draw = ImageDraw.Draw(image)
        for _ in range(140):
            x, y = rng.randrange(width), rng.randrange(int(height * 0.6))
            shade = rng.randrange(150, 255)
            draw.point((x, y), fill=(shade, shade, shade))


def _draw_mountains(
    image: Image.Image, horizon: int, palette: _Palette, rng: random.Random
) -> None:
    width, height = image.size
    draw = ImageDraw.Draw(image)
    for layer, colour in enumerate((palette.mountain_far, palette.mountain_near)):
        peaks = rng.randint(3, 5)
        step = width / peaks
        points: list[tuple[float, float]] = [(0, horizon)]
        for peak in range(peaks):
            lift = rng.uniform(0.16, 0.32) * (1.25 if layer == 0 else 0.85)
            points.append((step * (peak + rng.uniform(0.25, 0.75)), horizon - height * lift))
            points.append((step * (peak + 1), horizon - height * rng.uniform(0.02, 0.08)))
        points.append((width, horizon))
        draw.polygon(points, fill=colour)

        # Snow caps follow the actual ridge lines down from each summit, with a ragged edge.
        snow = _mix(colour, (250, 252, 255), 0.85)
        for index in range(1, len(points) - 1, 2):
            left, summit, right = points[index - 1 : index + 2]
            depth = rng.uniform(0.2, 0.3)
            draw.polygon(
                [
                    summit,
                    _towards(summit, left, depth),
                    _towards(summit, left, depth * 0.55),
                    _towards(summit, _towards(left, right, 0.5), depth * 0.7),
                    _towards(summit, right, depth * 0.6),
                    _towards(summit, right, depth * 0.85),
                    _towards(summit, right, depth),
                ],
                fill=snow,
            )


def _towards(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _draw_ice(image: Image.Image, horizon: int, rng: random.Random) -> None:
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for _ in range(16):
        side = int(min(width, height) * rng.uniform(0.06, 0.12))
        x = rng.randrange(-side // 2, width)
        y = horizon + rng.randrange(-side // 2, max(1, height - horizon - side // 2))
        draw.rounded_rectangle(
            (x, y, x + side, y + side),
            radius=side // 5,
            fill=(236, 246, 255, 150),
            outline=(255, 255, 255, 220),
            width=max(1, side // 24),
        )
        draw.line(
            (x + side // 5, y + side // 4, x + side // 2, y + side // 6),
            fill=(255, 255, 255, 230),
            width=max(1, side // 14),
        )
    image.paste(overlay, (0, 0), overlay)


def _draw_shadow(image: Image.Image, x: int, base_y: int, width: int, rng: random.Random) -> None:
    # Blurring a quarter-size mask and scaling it back up is a cheap large-radius blur.
    small = 4
    w, h = image.size
    mask = Image.new("L", (w // small + 1, h // small + 1), 0)
    offset = int(width * rng.uniform(0.05, 0.25))
    ImageDraw.Draw(mask).ellipse(
        (
            (x - width * 0.75 + offset) / small,
            (base_y - width * 0.12) / small,
            (x + width * 0.85 + offset) / small,
            (base_y + width * 0.16) / small,
        ),
        fill=120,
    )
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, width / small / 7)))
    mask = mask.resize((w, h), Image.Resampling.BILINEAR)
    image.paste(Image.new("RGB", image.size, (20, 28, 40)), (0, 0), mask)


def _cylinder(size: tuple[int, int], colour: RGB, gloss: float = 0.45) -> Image.Image:
    """A horizontally shaded strip that reads as a lit cylinder once stretched."""
    row: list[RGB] = []
    for i in range(128):
        t = i / 127
        shade = 0.55 + 0.55 * math.sin(math.pi * t) ** 0.7
        highlight = gloss * math.exp(-(((t - 0.3) / 0.07) ** 2))
        row.append(
            (
                min(255, int(colour[0] * shade + 255 * highlight)),
                min(255, int(colour[1] * shade + 255 * highlight)),
                min(255, int(colour[2] * shade + 255 * highlight)),
            )
        )
    strip = Image.new("RGB", (128, 1))
    strip.putdata(row)
    return strip.resize((max(1, size[0]), max(1, size[1])), Image.Resampling.BILINEAR)


def _draw_can(
    image: Image.Image, cx: int, base_y: int, height: int, palette: _Palette, flavour: str
) -> None:
    width = int(height * 0.42)
    left, top = cx - width // 2, base_y - height
    rim = max(3, height // 28)
    body_mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(body_mask).rounded_rectangle(
        (0, rim, width - 1, height - 1), radius=max(2, width // 9), fill=255
    )
    image.paste(_cylinder((width, height), palette.body), (left, top), body_mask)

    silver = (196, 204, 212)
    lid = _cylinder((int(width * 0.9), rim * 2), silver, gloss=0.6)
    lid_mask = Image.new("L", lid.size, 0)
    ImageDraw.Draw(lid_mask).rounded_rectangle(
        (0, 0, lid.width - 1, lid.height - 1), radius=rim, fill=255
    )
    image.paste(lid, (cx - lid.width // 2, top), lid_mask)
    foot = _cylinder((int(width * 0.86), rim), _mix(silver, (90, 96, 104), 0.4), gloss=0.3)
    image.paste(foot, (cx - foot.width // 2, base_y - rim))

    label_top, label_height = top + int(height * 0.3), int(height * 0.42)
    image.paste(_cylinder((width, label_height), palette.label, gloss=0.25), (left, label_top))
    _draw_label(image, cx, label_top, width, label_height, palette, flavour)


def _draw_bottle(
    image: Image.Image, cx: int, base_y: int, height: int, palette: _Palette, flavour: str
) -> None:
    width = int(height * 0.34)
    left, top = cx - width // 2, base_y - height
    neck_width, shoulder = int(width * 0.38), int(height * 0.34)
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    neck_left = (width - neck_width) // 2
    draw.rectangle((neck_left, int(height * 0.06), neck_left + neck_width, shoulder), fill=235)
    draw.polygon(
        [
            (neck_left, int(shoulder * 0.7)),
            (neck_left + neck_width, int(shoulder * 0.7)),
            (width - 1, int(shoulder * 1.25)),
            (0, int(shoulder * 1.25)),
        ],
        fill=235,
    )
    draw.rounded_rectangle(
        (0, int(shoulder * 1.1), width - 1, height - 1), radius=max(2, width // 7), fill=235
    )
    glass = _mix(palette.body, (200, 230, 240), 0.35)
    image.paste(_cylinder((width, height), glass, gloss=0.6), (left, top), mask)

    cap_height = int(height * 0.07)
    cap = _cylinder((int(neck_width * 1.15), cap_height), palette.accent, gloss=0.35)
    image.paste(cap, (cx - cap.width // 2, top))

    label_top, label_height = top + int(height * 0.5), int(height * 0.32)
    image.paste(_cylinder((width, label_height), palette.label, gloss=0.2), (left, label_top))
    _draw_label(image, cx, label_top, width, label_height, palette, flavour)


def _draw_label(
    image: Image.Image,
    cx: int,
    top: int,
    width: int,
    height: int,
    palette: _Palette,
    flavour: str,
) -> None:
    draw = ImageDraw.Draw(image)
    logo = height // 6
    logo_y = top + height // 7
    draw.polygon(
        [
            (cx - logo, logo_y + logo),
            (cx - logo // 4, logo_y),
            (cx + logo // 3, logo_y + logo * 2 // 3),
            (cx + logo // 2, logo_y + logo // 3),
            (cx + logo, logo_y + logo),
        ],
        fill=palette.ink,
    )
    draw.line(
        (cx - logo, logo_y + logo + 2, cx + logo, logo_y + logo + 2),
        fill=palette.accent,
        width=max(1, logo // 6),
    )
    y = logo_y + logo + max(3, height // 14)
    for text, share, colour in (
        ("FJELL", 0.2, palette.ink),
        ("SPARKLING", 0.075, palette.ink),
        (flavour.upper(), 0.07, _mix(palette.ink, palette.accent, 0.55)),
    ):
        font = _font(max(8, int(height * share)))
        left, text_top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left > width * 0.86:
            font = _font(max(6, int(height * share * width * 0.86 / (right - left))))
            left, text_top, right, bottom = draw.textbbox((0, 0), text, font=font)
        draw.text((cx - (right - left) // 2 - left, y - text_top), text, fill=colour, font=font)
        y += int(bottom - text_top) + max(2, height // 20)


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError, ValueError):
        # Without FreeType Pillow only has its fixed bitmap font; the label gets smaller text.
        return ImageFont.load_default()


def _draw_citrus(
    image: Image.Image, horizon: int, palette: _Palette, rng: random.Random, scale: float
) -> None:
    width, height = image.size
    draw = ImageDraw.Draw(image)
    rind = palette.accent
    flesh = _mix(rind, (255, 250, 220), 0.45)
    for _ in range(rng.randint(3, 5)):
        radius = int(rng.uniform(55, 95) * scale)
        if rng.random() < 0.5:
            x = rng.choice(
                (
                    rng.randint(radius, int(width * 0.3)),
                    rng.randint(int(width * 0.7), width - radius),
                )
            )
        else:
            x = rng.randint(radius, width - radius)
        y = rng.randint(horizon + radius // 2, height - radius // 2)
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), fill=_mix(rind, (0, 0, 0), 0.12)
        )
        inner = int(radius * 0.88)
        draw.ellipse((x - inner, y - inner, x + inner, y + inner), fill=(252, 248, 232))
        core = int(radius * 0.8)
        draw.ellipse((x - core, y - core, x + core, y + core), fill=flesh)
        rotation = rng.uniform(0, math.pi)
        for segment in range(10):
            angle = rotation + segment * math.pi / 5
            draw.line(
                (x, y, x + core * math.cos(angle), y + core * math.sin(angle)),
                fill=(252, 248, 232),
                width=max(1, radius // 18),
            )


def _draw_bubbles(image: Image.Image, rng: random.Random, scale: float) -> None:
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for _ in range(rng.randint(18, 36)):
        radius = max(2, int(rng.uniform(4, 16) * scale))
        x, y = rng.randrange(width), rng.randrange(height)
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius),
            fill=(255, 255, 255, 40),
            outline=(255, 255, 255, 170),
            width=max(1, radius // 5),
        )
    image.paste(overlay, (0, 0), overlay)


def _soften(image: Image.Image) -> Image.Image:
    # Downscale, blur, upscale: a heavy "missed focus" look at a fraction of a full-size blur.
    small = image.resize((image.width // 6, image.height // 6), Image.Resampling.BOX)
    small = small.filter(ImageFilter.GaussianBlur(3.5))
    return small.resize(image.size, Image.Resampling.BICUBIC)
