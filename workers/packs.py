"""Channel packs: a zip written member by member to a file, never held in memory.

Framework-free. The caller hands over members with a way to open each one as a binary stream
(Django storage, a local file, bytes); each is copied into the archive in 1 MiB chunks while
its SHA-256 is computed, and ``manifest.json`` is written last with those hashes.

Member names are built by the caller from server data (ids, preset slugs, hashes) and passed
through :func:`safe_member_name` here anyway, so no uploaded file name can reach the archive.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Any

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA_VERSION = 1
_CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Already-compressed images are stored; text is deflated.
_STORED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".avif", ".zip", ".pdf")


class PackError(ValueError):
    pass


@dataclass(frozen=True)
class PackMember:
    name: str
    open: Callable[[], AbstractContextManager[IO[bytes]]]
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WrittenMember:
    name: str
    byte_size: int
    sha256: str
    meta: dict[str, Any]


@dataclass(frozen=True)
class PackSummary:
    members: list[WrittenMember]
    manifest: dict[str, Any]


def safe_member_name(name: str) -> str:
    """A relative path of ASCII segments: no absolute paths, no ``..``, no odd characters."""
    segments = []
    for raw in name.replace("\\", "/").split("/"):
        segment = _UNSAFE.sub("-", raw).strip(".-")[:120]
        if segment:
            segments.append(segment)
    if not segments:
        raise PackError(f"empty archive member name from {name!r}")
    return "/".join(segments)


def write_pack(
    out: IO[bytes],
    members: Iterable[PackMember],
    manifest: dict[str, Any],
    *,
    progress: Callable[[int, int | None], None] | None = None,
    total: int | None = None,
) -> PackSummary:
    """Write every member, then ``manifest.json`` with ``files``: name, bytes and SHA-256 of
    each member plus its ``meta``. Duplicate names are refused rather than overwritten."""
    written: list[WrittenMember] = []
    seen: set[str] = {MANIFEST_NAME}
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for index, member in enumerate(members):
            name = safe_member_name(member.name)
            if name in seen:
                raise PackError(f"two archive members would be called {name!r}")
            seen.add(name)
            written.append(_copy_member(archive, name, member))
            if progress is not None:
                progress(index + 1, total)
        full_manifest = {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            **manifest,
            "files": [
                {"name": w.name, "bytes": w.byte_size, "sha256": w.sha256, **w.meta}
                for w in written
            ],
        }
        archive.writestr(
            zipfile.ZipInfo(MANIFEST_NAME, date_time=_DOS_EPOCH),
            json.dumps(full_manifest, indent=2, ensure_ascii=False, default=str),
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return PackSummary(members=written, manifest=full_manifest)


_DOS_EPOCH = (1980, 1, 1, 0, 0, 0)


def _copy_member(archive: zipfile.ZipFile, name: str, member: PackMember) -> WrittenMember:
    info = zipfile.ZipInfo(name, date_time=_DOS_EPOCH)
    info.compress_type = (
        zipfile.ZIP_STORED if name.lower().endswith(_STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
    )
    digest = hashlib.sha256()
    size = 0
    # force_zip64: the size is not known up front, and a member may pass 4 GiB.
    with member.open() as source, archive.open(info, "w", force_zip64=True) as target:
        for chunk in _chunks(source):
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
    return WrittenMember(name=name, byte_size=size, sha256=digest.hexdigest(), meta=member.meta)


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    while True:
        chunk = source.read(_CHUNK)
        if not chunk:
            return
        yield chunk


# --- presentation deck -----------------------------------------------------------------------

DECK_PAGE = (960.0, 540.0)  # points: a 16:9 page


@dataclass(frozen=True)
class Slide:
    title: str
    lines: list[str]
    image: bytes | None = None  # any format Pillow reads


def write_deck(out: IO[bytes], *, title: str, subtitle: list[str], slides: list[Slide]) -> int:
    """A 16:9 PDF: a title page, then one page per slide with its picture on the left and its
    title and lines on the right. Returns the number of pages. Text in any script is drawn run
    by run in the first font that has its glyphs (see :func:`deck_fonts`)."""
    import io as _io

    from PIL import Image
    from reportlab.lib.colors import HexColor
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    fonts = deck_fonts()
    width, height = DECK_PAGE
    canvas = Canvas(out, pagesize=DECK_PAGE, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("Draftroom")
    canvas.setFillColor(HexColor("#111111"))
    canvas.rect(0, 0, width, height, stroke=0, fill=1)
    canvas.setFillColor(HexColor("#ffffff"))
    _draw(canvas, fonts, 48, height - 120, _fit(title, 48), 36, bold=True)
    for index, line in enumerate(subtitle[:12]):
        _draw(canvas, fonts, 48, height - 170 - index * 24, _fit(line, 100), 16)
    canvas.showPage()
    for slide in slides:
        picture_w, margin = width * 0.62, 24.0
        if slide.image:
            with Image.open(_io.BytesIO(slide.image)) as picture:
                picture.load()
                rgb = picture.convert("RGB")
            box_w, box_h = picture_w - 2 * margin, height - 2 * margin
            scale = min(box_w / rgb.width, box_h / rgb.height)
            draw_w, draw_h = rgb.width * scale, rgb.height * scale
            canvas.drawImage(
                ImageReader(rgb),
                margin + (box_w - draw_w) / 2,
                margin + (box_h - draw_h) / 2,
                draw_w,
                draw_h,
            )
        x = picture_w + 8
        canvas.setFillColor(HexColor("#111111"))
        _draw(canvas, fonts, x, height - 60, _fit(slide.title, 30), 20, bold=True)
        y = height - 92
        for line in slide.lines:
            for part in _wrap(line, 48):
                if y < 30:
                    break
                _draw(canvas, fonts, x, y, part, 12)
                y -= 17
            y -= 4
        canvas.showPage()
    canvas.save()
    return len(slides) + 1


@dataclass(frozen=True)
class DeckFonts:
    """Fonts tried in order for each character: an embedded TrueType font for Latin, Greek and
    Cyrillic, then a CJK font, then Helvetica (Windows-1252) as the last resort."""

    unicode: str | None
    cjk: str | None

    def for_char(self, char: str) -> str:
        if char.isspace() or ord(char) < 0x80:
            return self.unicode or "Helvetica"
        if self.unicode and _has_glyph(self.unicode, char):
            return self.unicode
        if self.cjk and _is_cjk(char):
            return self.cjk
        return self.unicode or "Helvetica"


_DECK_FONTS: DeckFonts | None = None
# reportlab's CID font for Chinese, Japanese and Korean text: one of Adobe's standard CJK fonts,
# named in the PDF rather than embedded (every PDF reader supplies it), so the deck stays small.
_CJK_FONT = "HeiseiKakuGo-W5"
_UNICODE_FONT = "DraftroomNotoSans"


def deck_fonts() -> DeckFonts:
    """Register the deck's fonts once per process. Noto Sans (SIL Open Font License 1.1) ships
    in the ``fontpkg-noto-sans`` package; without it the deck falls back to Helvetica."""
    global _DECK_FONTS
    if _DECK_FONTS is not None:
        return _DECK_FONTS
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    unicode_font: str | None = None
    try:
        import fontpkg_noto_sans

        path = fontpkg_noto_sans.ROOT / "files" / "NotoSans[wdth,wght].ttf"
        pdfmetrics.registerFont(TTFont(_UNICODE_FONT, str(path)))
        unicode_font = _UNICODE_FONT
    except Exception:  # a missing font package degrades the deck, it does not stop the pack
        unicode_font = None
    cjk_font: str | None = None
    try:
        pdfmetrics.registerFont(UnicodeCIDFont(_CJK_FONT))
        cjk_font = _CJK_FONT
    except Exception:
        cjk_font = None
    _DECK_FONTS = DeckFonts(unicode=unicode_font, cjk=cjk_font)
    return _DECK_FONTS


def _has_glyph(font_name: str, char: str) -> bool:
    from reportlab.pdfbase import pdfmetrics

    face = getattr(pdfmetrics.getFont(font_name), "face", None)
    return face is not None and ord(char) in face.charToGlyph


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, kana, CJK symbols and unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
    )


def font_runs(text: str, fonts: DeckFonts) -> list[tuple[str, str]]:
    """Split ``text`` into (font, run) pairs, each run drawn in one font."""
    runs: list[tuple[str, str]] = []
    for char in text:
        font = fonts.for_char(char)
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return runs


def _draw(canvas: Any, fonts: DeckFonts, x: float, y: float, text: str, size: float,
          *, bold: bool = False) -> None:  # fmt: skip
    for font, run in font_runs(text, fonts):
        if font == "Helvetica":
            font = "Helvetica-Bold" if bold else "Helvetica"
            run = run.encode("cp1252", "replace").decode("cp1252")
        canvas.setFont(font, size)
        canvas.drawString(x, y, run)
        x += canvas.stringWidth(run, font, size)


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _fit(text: str, limit: int) -> str:
    text = _clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(text: str, width: int) -> list[str]:
    words, lines, current = _clean(text).split(" "), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word[:width]
        else:
            current = f"{current} {word}".strip()[: width * 2]
    if current:
        lines.append(current)
    return lines[:6]
