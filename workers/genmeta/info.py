"""What a reader found about how an image was generated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workers.genmeta.values import unique

GENERATOR_A1111 = "Automatic1111"
GENERATOR_COMFYUI = "ComfyUI"
GENERATOR_FOOOCUS = "Fooocus"
GENERATOR_INVOKEAI = "InvokeAI"
GENERATOR_NOVELAI = "NovelAI"


@dataclass
class GenerationPass:
    """One sampler of a multi-pass graph (a hires fix, a refiner, regional prompts).

    ``label`` says which pass it was ("Pass 2 · dpmpp_2m, node 24"), so that a record listing
    several prompts still tells which one made the composition and which one refined it.
    """

    label: str
    prompts: list[str] = field(default_factory=list)
    negative_prompts: list[str] = field(default_factory=list)
    model: str = ""
    seed: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class GenerationInfo:
    prompt: str = ""
    negative_prompt: str = ""
    generator: str = ""
    model: str = ""
    seed: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    # Every sampler of a graph with more than one, in graph order; empty for single-pass files.
    passes: list[GenerationPass] = field(default_factory=list)
    # What went wrong while reading (a parser that failed, input too large for one of them);
    # shown to the uploader, never a reason to refuse the file.
    notes: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when nothing about the generation is known (``sources`` and ``notes`` alone do
        not count)."""
        return not (
            self.prompt
            or self.negative_prompt
            or self.generator
            or self.model
            or self.seed is not None
            or self.parameters
            or self.references
            or self.passes
        )

    def merged_with(self, other: GenerationInfo) -> GenerationInfo:
        """Combine two findings; wherever ``self`` has a value it wins."""
        return GenerationInfo(
            prompt=self.prompt or other.prompt,
            negative_prompt=self.negative_prompt or other.negative_prompt,
            generator=self.generator or other.generator,
            model=self.model or other.model,
            seed=self.seed if self.seed is not None else other.seed,
            parameters={**other.parameters, **self.parameters},
            references=unique([*self.references, *other.references]),
            sources=unique([*self.sources, *other.sources]),
            # Passes describe one graph; mixing two readers' lists would mislabel them.
            passes=self.passes or other.passes,
            notes=unique([*self.notes, *other.notes]),
        )


def with_source(info: GenerationInfo, source: str) -> GenerationInfo:
    if not info.is_empty() and source not in info.sources:
        info.sources.append(source)
    return info
