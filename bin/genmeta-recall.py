"""How many generation fields each reader recovers from the real generator files.

Reads every sample in tests/workers/genmeta_samples/ (files written by Automatic1111, ComfyUI,
Fooocus, InvokeAI and NovelAI, from sd-parsers' own test data) and counts, per field, how
often a reader returns the value listed in expected.json:

- "old genmeta": workers/genmeta.py as it was before the package (taken from git, --old-ref);
- "sd-parsers": sd-parsers' own ParserManager on the file, default eagerness;
- "new genmeta": workers.genmeta.read_embedded, ours and sd-parsers combined.

Usage: PYTHONPATH=. .venv/bin/python bin/genmeta-recall.py [--old-ref REF] [--per-file] [--timing]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "workers" / "genmeta_samples"
FIELDS = ("generator", "seed", "model", "prompt", "negative_prompt")
# The last commit with the single-module reader.
DEFAULT_OLD_REF = "f3d0f6d"

Fields = dict[str, Any]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-ref", default=DEFAULT_OLD_REF)
    parser.add_argument("--per-file", action="store_true")
    parser.add_argument("--timing", action="store_true", help="also time old vs new per file")
    args = parser.parse_args()

    expected: dict[str, Fields] = json.loads((SAMPLES / "expected.json").read_text())
    readers: dict[str, Callable[[Path], Fields]] = {
        "old genmeta": _old_reader(args.old_ref),
        "sd-parsers": _sd_parsers_reader(),
        "new genmeta": _new_reader(),
    }
    totals = {field: sum(1 for e in expected.values() if e[field] is not None) for field in FIELDS}
    print(
        f"{len(expected)} files; fields present: " + ", ".join(f"{f} {totals[f]}" for f in FIELDS)
    )
    header = f"{'reader':<12} " + " ".join(f"{f:>15}" for f in FIELDS) + f" {'4 main fields':>14}"
    print(header)
    for name, read in readers.items():
        hits = dict.fromkeys(FIELDS, 0)
        for file_name, want in sorted(expected.items()):
            got = read(SAMPLES / file_name)
            matched = [f for f in FIELDS if want[f] is not None and _same(f, got.get(f), want[f])]
            for field in matched:
                hits[field] += 1
            if args.per_file:
                missed = [f for f in FIELDS if want[f] is not None and f not in matched]
                print(f"  {name:<12} {file_name:<40} missed: {', '.join(missed) or '-'}")
        main_hits = sum(hits[f] for f in FIELDS[:4])
        main_total = sum(totals[f] for f in FIELDS[:4])
        cells = " ".join(f"{hits[f]:>7}/{totals[f]:<2} {hits[f] / totals[f]:>4.0%}" for f in FIELDS)
        print(f"{name:<12} {cells} {main_hits:>6}/{main_total} {main_hits / main_total:>4.0%}")
    if args.timing:
        for name in ("old genmeta", "new genmeta"):
            per_file = _milliseconds_per_file(readers[name], list(expected))
            print(f"{name}: {per_file:.2f} ms per file")
    return 0


def _milliseconds_per_file(read: Callable[[Path], Fields], names: list[str]) -> float:
    files = [SAMPLES / name for name in names]
    for file in files:  # warm up imports and caches
        read(file)
    rounds = 50
    started = time.perf_counter()
    for _ in range(rounds):
        for file in files:
            read(file)
    return (time.perf_counter() - started) / (rounds * len(files)) * 1000


def _same(field: str, got: Any, want: Any) -> bool:
    if got is None or got == "":
        return False
    if field == "seed":
        return str(got).strip() == str(want)
    if field == "generator":
        return str(got).lower() == str(want).lower()
    if field in ("prompt", "negative_prompt"):
        # Readers order combined prompts differently; the same lines in any order count.
        return _lines(str(got)) == _lines(str(want))
    return str(got).strip() == str(want)


def _lines(text: str) -> set[str]:
    return {" ".join(line.split()) for line in text.splitlines() if line.strip()}


def _old_reader(ref: str) -> Callable[[Path], Fields]:
    source = subprocess.run(
        ["git", "show", f"{ref}:workers/genmeta.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_genmeta.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_genmeta", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load workers/genmeta.py from {ref}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_genmeta"] = module
    spec.loader.exec_module(module)
    return lambda file: _fields_of(module.read_embedded(file.read_bytes()))


def _new_reader() -> Callable[[Path], Fields]:
    from workers.genmeta import read_embedded

    return lambda file: _fields_of(read_embedded(file.read_bytes()))


def _fields_of(info: Any) -> Fields:
    return {field: getattr(info, field) for field in FIELDS}


def _sd_parsers_reader() -> Callable[[Path], Fields]:
    from sd_parsers import ParserManager

    manager = ParserManager()

    def read(file: Path) -> Fields:
        found = manager.parse(file)
        if found is None:
            return {}
        sampler = next((s for s in found.samplers if s.prompts), None) or (
            found.samplers[0] if found.samplers else None
        )
        if sampler is None:
            return {"generator": found.generator.value}
        return {
            "generator": found.generator.value,
            "seed": sampler.parameters.get("seed", sampler.parameters.get("noise_seed")),
            "model": str(sampler.model) if sampler.model else None,
            "prompt": "\n".join(p.value for p in sampler.prompts),
            "negative_prompt": "\n".join(p.value for p in sampler.negative_prompts),
        }

    return read


if __name__ == "__main__":
    sys.exit(main())
