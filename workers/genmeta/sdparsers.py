"""Reading with sd-parsers (PyPI) where it knows more than our own readers.

sd-parsers reads InvokeAI (all three of its metadata formats), NovelAI (seed, model), Fooocus
(generator, model) and every sampler of a ComfyUI graph, each with its prompts. It is handed
only the text that our container walkers already pulled out under their caps, and never opens
the image itself: its own extractors would decode a PNG's pixels to reach text stored after
them, which costs a full decode on large uploads.

Its inputs are hostile, so each one has a size cap here and anything larger is left to our
readers, with a note: a few of its patterns backtrack on crafted text (the InvokeAI "Dream"
prompt, the NovelAI model/hash split) and its ComfyUI walk has no step budget. Its
Automatic1111 parser is not used at all: ours reads the same fields, and its "Hashes:" pattern
is quadratic in the length of the settings line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sd_parsers.data import Generators, PromptInfo, Sampler
from sd_parsers.exceptions import ParserError
from sd_parsers.parsers import ComfyUIParser, FooocusParser, InvokeAIParser, NovelAIParser, Parser

from workers.genmeta.info import (
    GENERATOR_A1111,
    GENERATOR_COMFYUI,
    GENERATOR_FOOOCUS,
    GENERATOR_INVOKEAI,
    GENERATOR_NOVELAI,
    GenerationInfo,
    GenerationPass,
)
from workers.genmeta.values import as_int, cap, json_safe_dict, load_json, unique

_GENERATORS = {
    Generators.AUTOMATIC1111: GENERATOR_A1111,
    Generators.COMFYUI: GENERATOR_COMFYUI,
    Generators.FOOOCUS: GENERATOR_FOOOCUS,
    Generators.INVOKEAI: GENERATOR_INVOKEAI,
    Generators.NOVELAI: GENERATOR_NOVELAI,
}

# Which parser reads which text keys (all of them must be present), in the order sd-parsers'
# own ParserManager tries them.
_ROUTES: tuple[tuple[type[Parser], tuple[str, ...]], ...] = (
    (FooocusParser, ("parameters",)),
    (ComfyUIParser, ("prompt", "workflow")),
    (InvokeAIParser, ("sd-metadata",)),
    (InvokeAIParser, ("Dream",)),
    (InvokeAIParser, ("invokeai_metadata",)),
    (NovelAIParser, ("Comment", "Description", "Source")),
)

# The most characters of each key handed to sd-parsers. Real files stay far below these.
_INPUT_LIMITS = {
    "parameters": 256_000,
    "prompt": 2_000_000,
    "workflow": 4_000_000,
    "sd-metadata": 256_000,
    # Its prompt pattern backtracks once per quote to the end of the line: quadratic.
    "Dream": 4_000,
    "invokeai_metadata": 256_000,
    "Comment": 256_000,
    "Description": 20_000,
    # Its "name HASH" split backtracks on long runs of words.
    "Source": 500,
}
# sd-parsers walks back from every sampler through the whole graph, copying the path at every
# step: samplers x nodes^2 in the worst shape. Real workflows (a few hundred nodes, a few
# samplers) stay far below this budget; test_sdparsers.py times crafted graphs at the budget.
_MAX_GRAPH_WORK = 2_000_000
_MAX_GRAPH_LINKS = 5_000
_SAMPLER_INPUTS = frozenset({"sampler_name", "steps", "cfg"})
_SAMPLER_CLASS_TYPES = frozenset({"WanVideoSampler"})
_MAX_PASSES = 20
_MAX_PROMPTS_PER_PASS = 20


def read_with_sd_parsers(texts: Mapping[str, str], sources: Mapping[str, str]) -> GenerationInfo:
    """What sd-parsers reads from these text chunks, or an empty info with notes; never raises.

    ``sources`` names where each key was found (``{"prompt": "png:prompt"}``), for the record.
    """
    notes: list[str] = []
    for parser_class, keys in _ROUTES:
        if not all(isinstance(texts.get(key), str) and texts[key] for key in keys):
            continue
        if parser_class is FooocusParser and not texts["parameters"].lstrip().startswith("{"):
            continue  # Automatic1111 text under the same key, which ours reads
        where = ", ".join(sources.get(key, key) for key in keys)
        if any(len(texts[key]) > _INPUT_LIMITS[key] for key in keys):
            notes.append(f"sd-parsers not tried on {where}: larger than its limit")
            continue
        parameters: dict[str, Any] = {key: texts[key] for key in keys}
        if parser_class is ComfyUIParser:
            graph, ui = load_json(texts["prompt"]), load_json(texts["workflow"])
            if not isinstance(graph, dict) or not isinstance(ui, dict):
                continue
            if not _graph_within_limits(graph, ui):
                notes.append(f"sd-parsers not tried on {where}: graph larger than its limit")
                continue
            parameters = {"prompt": graph, "workflow": ui}
        try:
            found = parser_class().parse(parameters)
            info = _generation_info(found)
        except ParserError:
            continue  # not this generator's format
        except Exception as exc:  # a bug or a crafted file: our own readers still count
            notes.append(f"sd-parsers failed on {where} ({type(exc).__name__})")
            continue
        if info.is_empty():
            continue
        info.sources = [f"{sources.get(key, key)} (sd-parsers)" for key in keys]
        info.notes = notes
        return info
    return GenerationInfo(notes=notes)


def _graph_within_limits(graph: dict[str, Any], ui: dict[str, Any]) -> bool:
    links = ui.get("links")
    if isinstance(links, list) and len(links) > _MAX_GRAPH_LINKS:
        return False
    # Counted the way sd-parsers recognises a sampler.
    samplers = sum(
        1
        for node in graph.values()
        if isinstance(node, dict)
        and (
            node.get("class_type") in _SAMPLER_CLASS_TYPES
            or (isinstance(node.get("inputs"), dict) and node["inputs"].keys() >= _SAMPLER_INPUTS)
        )
    )
    return samplers * len(graph) ** 2 <= _MAX_GRAPH_WORK


def _generation_info(found: PromptInfo) -> GenerationInfo:
    passes = [_pass(number, sampler) for number, sampler in enumerate(found.samplers, 1)]
    passes = passes[:_MAX_PASSES]
    info = GenerationInfo(generator=_GENERATORS.get(found.generator, ""))
    # The first pass with a prompt set the composition; later ones refine it.
    main = next((p for p in passes if p.prompts), passes[0] if passes else None)
    if main is not None:
        info.prompt = cap("\n".join(main.prompts))
        info.negative_prompt = cap("\n".join(main.negative_prompts))
        info.model = main.model
        info.seed = main.seed
        info.parameters = dict(main.parameters)
    if len(passes) > 1:
        info.passes = passes
    return info


def _pass(number: int, sampler: Sampler) -> GenerationPass:
    name = cap(str(sampler.name))
    node = f", node {cap(str(sampler.sampler_id))}" if sampler.sampler_id is not None else ""
    parameters = json_safe_dict(
        {"sampler": name, **dict(sampler.parameters)} if name else dict(sampler.parameters),
        scalars_only=True,
    )
    seed = as_int(parameters.get("seed"))
    if seed is None:
        seed = as_int(parameters.get("noise_seed"))
    return GenerationPass(
        label=f"Pass {number} · {name}{node}",
        prompts=_texts(sampler.prompts),
        negative_prompts=_texts(sampler.negative_prompts),
        model=cap(str(sampler.model)) if sampler.model is not None else "",
        seed=seed,
        parameters=parameters,
    )


def _texts(prompts: Any) -> list[str]:
    values = [cap(str(prompt.value).strip()) for prompt in list(prompts)[:_MAX_PROMPTS_PER_PASS]]
    return unique(value for value in values if value)
