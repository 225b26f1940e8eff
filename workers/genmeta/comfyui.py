"""ComfyUI graphs: the API graph (``prompt``) and the UI graph (``workflow``)."""

from __future__ import annotations

from typing import Any

from workers.genmeta.info import GENERATOR_COMFYUI, GenerationInfo
from workers.genmeta.values import MAX_LIST_ITEMS, cap, json_safe, load_json, unique

_MAX_GRAPH_DEPTH = 32
_MAX_GRAPH_STEPS = 5_000
_MAX_SAMPLERS_TRIED = 20


_SAMPLER_TYPES = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")
# SamplerCustomAdvanced spreads its settings over small helper nodes (RandomNoise, CFGGuider,
# KSamplerSelect, BasicScheduler); their inputs are read as if they were the sampler's own.
_SAMPLER_HELPER_INPUTS = ("noise", "guider", "sampler", "sigmas")
_SAMPLER_PARAMETERS = ("seed", "steps", "cfg", "sampler_name", "scheduler", "denoise")
_TEXT_INPUTS = ("text", "text_g", "text_l", "string", "value", "prompt")
_MODEL_FILE_INPUTS = ("ckpt_name", "unet_name", "model_name")

# Widget order of the common nodes in the UI ("workflow") format, which stores values
# positionally; used only when the API ("prompt") graph is missing.
_UI_WIDGETS: dict[str, tuple[str, ...]] = {
    "KSampler": (
        "seed",
        "control_after_generate",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "denoise",
    ),
    "KSamplerAdvanced": (
        "add_noise",
        "noise_seed",
        "control_after_generate",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "start_at_step",
        "end_at_step",
        "return_with_leftover_noise",
    ),
    "CLIPTextEncode": ("text",),
    "CheckpointLoaderSimple": ("ckpt_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "LoadImage": ("image", "upload"),
    "RandomNoise": ("noise_seed", "control_after_generate"),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "CFGGuider": ("cfg",),
    "PrimitiveNode": ("value",),
}

Graph = dict[str, dict[str, Any]]


def parse_comfyui(prompt_json: str | None, workflow_json: str | None) -> GenerationInfo:
    """Read a ComfyUI API graph (``prompt``), falling back to the UI graph (``workflow``)."""
    try:
        graph = _api_graph(load_json(prompt_json))
        info = _info_from_graph(graph) if graph else None
        if info is None or not (info.prompt or info.parameters):
            ui_graph = _ui_to_api_graph(load_json(workflow_json))
            ui_info = _info_from_graph(ui_graph) if ui_graph else None
            if ui_info is not None:
                info = ui_info if info is None else info.merged_with(ui_info)
        return info if info is not None else GenerationInfo()
    except Exception:  # a hostile graph yields nothing rather than an error
        return GenerationInfo()


def _api_graph(data: Any) -> Graph | None:
    if not isinstance(data, dict):
        return None
    graph = {
        str(node_id): node
        for node_id, node in data.items()
        if isinstance(node, dict) and isinstance(node.get("class_type"), str)
    }
    for node in graph.values():
        if not isinstance(node.get("inputs"), dict):
            node["inputs"] = {}
    return graph or None


def _ui_to_api_graph(data: Any) -> Graph | None:
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        return None
    link_sources: dict[Any, list[Any]] = {}
    for link in data.get("links") or []:
        if isinstance(link, list) and len(link) >= 3:
            link_sources[link[0]] = [str(link[1]), link[2]]
        elif isinstance(link, dict) and "id" in link:
            link_sources[link["id"]] = [str(link.get("origin_id")), link.get("origin_slot", 0)]

    graph: Graph = {}
    for node in data["nodes"]:
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            continue
        inputs: dict[str, Any] = {}
        widgets = node.get("widgets_values")
        if isinstance(widgets, dict):
            inputs.update(widgets)
        elif isinstance(widgets, list):
            inputs.update(zip(_UI_WIDGETS.get(node["type"], ()), widgets, strict=False))
        for slot in node.get("inputs") or []:
            if isinstance(slot, dict) and isinstance(slot.get("name"), str):
                source = link_sources.get(slot.get("link"))
                if source is not None:
                    inputs[slot["name"]] = source
        graph[str(node.get("id"))] = {"class_type": node["type"], "inputs": inputs}
    return graph or None


def _info_from_graph(graph: Graph) -> GenerationInfo:
    info = GenerationInfo(generator=GENERATOR_COMFYUI)
    resolver = _TextResolver(graph)
    sampler = _pick_sampler(graph, resolver)
    if sampler is not None:
        inputs = _sampler_inputs(graph, sampler)
        positive = inputs.get("positive", inputs.get("conditioning"))
        info.prompt = cap(resolver.text(positive))
        info.negative_prompt = cap(resolver.text(inputs.get("negative")))
        for name in _SAMPLER_PARAMETERS:
            key = "noise_seed" if name == "seed" and "seed" not in inputs else name
            value = _resolve_scalar(graph, inputs.get(key), 0)
            if value is not None:
                info.parameters[name] = value
        seed = info.parameters.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool):
            info.seed = seed
        loras: list[str] = []
        info.model = cap(_resolve_model(graph, inputs.get("model"), loras, 0))
        if loras:
            info.parameters["loras"] = loras[:MAX_LIST_ITEMS]
    if not info.model:
        info.model = cap(_first_model_file(graph))
    info.references = [
        cap(node["inputs"]["image"])
        for _, node in _sorted_nodes(graph)
        if node["class_type"] == "LoadImage" and isinstance(node["inputs"].get("image"), str)
    ][:MAX_LIST_ITEMS]
    return info


def _sorted_nodes(graph: Graph) -> list[tuple[str, dict[str, Any]]]:
    def order(item: tuple[str, dict[str, Any]]) -> tuple[int, str]:
        node_id = item[0]
        return (int(node_id), "") if node_id.isdigit() else (1 << 62, node_id)

    return sorted(graph.items(), key=order)


def _pick_sampler(graph: Graph, resolver: _TextResolver) -> dict[str, Any] | None:
    samplers = [node for _, node in _sorted_nodes(graph) if node["class_type"] in _SAMPLER_TYPES]
    # A hires-fix graph has several samplers; the first one that has a readable prompt is the
    # one that set the composition.
    for node in samplers[:_MAX_SAMPLERS_TRIED]:
        inputs = _sampler_inputs(graph, node)
        if resolver.text(inputs.get("positive", inputs.get("conditioning"))):
            return node
    return samplers[0] if samplers else None


def _sampler_inputs(graph: Graph, sampler: dict[str, Any]) -> dict[str, Any]:
    inputs = dict(sampler["inputs"])
    for link_name in _SAMPLER_HELPER_INPUTS:
        helper = _linked_node(graph, sampler["inputs"].get(link_name))
        if helper is not None:
            for key, value in helper["inputs"].items():
                inputs.setdefault(key, value)
    return inputs


def _is_link(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], (str, int))
        and not isinstance(value[0], bool)
        and isinstance(value[1], int)
    )


def _linked_node(graph: Graph, value: Any) -> dict[str, Any] | None:
    if not _is_link(value):
        return None
    return graph.get(str(value[0]))


class _TextResolver:
    """Follows conditioning links back to prompt text.

    Memoised and budgeted: a crafted graph whose branches keep converging on the same nodes
    would otherwise make the walk exponential.
    """

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.memo: dict[tuple[str, int], str] = {}
        self.steps_left = _MAX_GRAPH_STEPS

    def text(self, value: Any) -> str:
        return self._resolve(value, 0, frozenset())

    def _resolve(self, value: Any, depth: int, seen: frozenset[str]) -> str:
        if isinstance(value, str):
            return value
        if depth > _MAX_GRAPH_DEPTH or not _is_link(value):
            return ""
        node_id, slot = str(value[0]), int(value[1])
        if (node_id, slot) in self.memo:
            return self.memo[(node_id, slot)]
        node = self.graph.get(node_id)
        if node is None or node_id in seen or self.steps_left <= 0:
            return ""
        self.steps_left -= 1
        result = self._from_node(node["inputs"], slot, depth + 1, seen | {node_id})
        self.memo[(node_id, slot)] = result
        return result

    def _from_node(
        self, inputs: dict[str, Any], slot: int, depth: int, seen: frozenset[str]
    ) -> str:
        for key in _TEXT_INPUTS:
            if key in inputs:
                text = self._resolve(inputs[key], depth, seen)
                if text:
                    return text
        # Nodes such as ControlNetApplyAdvanced pass both conditionings through; the output
        # slot says which one this link carries.
        if "positive" in inputs and "negative" in inputs:
            return self._resolve(inputs["negative" if slot == 1 else "positive"], depth, seen)
        texts = [
            self._resolve(inputs[key], depth, seen)
            for key in sorted(inputs)
            if key.startswith("conditioning") or key == "positive"
        ]
        return "\n".join(unique([text for text in texts if text]))


def _resolve_scalar(graph: Graph, value: Any, depth: int) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return json_safe(value, 0)
    node = _linked_node(graph, value)
    if node is None or depth > _MAX_GRAPH_DEPTH:
        return None
    inputs = node["inputs"]
    for key in ("value", "seed", "noise_seed", "int", "float", "number", "string", "text"):
        if key in inputs:
            return _resolve_scalar(graph, inputs[key], depth + 1)
    return None


def _resolve_model(graph: Graph, value: Any, loras: list[str], depth: int) -> str:
    node = _linked_node(graph, value)
    if node is None or depth > _MAX_GRAPH_DEPTH:
        return ""
    inputs = node["inputs"]
    for key in _MODEL_FILE_INPUTS:
        if isinstance(inputs.get(key), str):
            return str(inputs[key])
    if isinstance(inputs.get("lora_name"), str):
        loras.append(cap(inputs["lora_name"]))
    return _resolve_model(graph, inputs.get("model"), loras, depth + 1)


def _first_model_file(graph: Graph) -> str:
    for _, node in _sorted_nodes(graph):
        for key in _MODEL_FILE_INPUTS:
            if isinstance(node["inputs"].get(key), str):
                return str(node["inputs"][key])
    return ""
