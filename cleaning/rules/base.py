"""Rule registry: a rule scores one of the two views of cleaning/views.py, one side (`Side`) or the pair (`PairBatch`).

A rule is a small class registered by name with a typed params dataclass. `score()` is pure: it maps the
rows it is given to numbers (one per row). `accept()` turns those numbers into a keep mask. Splitting the two
lets scores be dumped and thresholds re-tuned without re-running the expensive part (OpusFilter's design).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np



@dataclass
class RuleContext:
    """What a rule may know besides its params: the languages of the corpus and shared resources."""

    src_lang: str
    tgt_lang: str | None  # None for monolingual cleaning
    languages: list[str] = field(default_factory=list)  # for language ID restricted to a known set
    resources: dict[str, Any] = field(default_factory=dict)  # lazily built, shared between rules (LID model)


class Rule:
    """Base class. Subclasses set `params_class` (via `register_rule`) and implement `score` and `accept`.

    `pair = False` rules look at one side at a time and are applied to each side (reason tag gets `(src)` or
    `(tgt)`); they also run in monolingual cleaning. `pair = True` rules compare the two sides.
    """

    name: ClassVar[str] = ""
    params_class: ClassVar[type] = object
    pair: ClassVar[bool] = False

    def __init__(self, params: Any, context: RuleContext):
        self.params = params
        self.context = context

    def score(self, view: Any) -> np.ndarray:  # Side or PairBatch
        raise NotImplementedError

    def accept(self, scores: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@dataclass
class NoParams:
    """For rules without parameters."""


RULES: dict[str, type[Rule]] = {}


def register_rule(name: str, params: type = NoParams, pair: bool = False) -> Callable[[type[Rule]], type[Rule]]:
    """Class decorator: `@register_rule("length_ratio", params=LengthRatioParams, pair=True)`."""

    def wrap(cls: type[Rule]) -> type[Rule]:
        if name in RULES:
            raise ValueError(f"rule '{name}' registered twice")
        if not dataclasses.is_dataclass(params):
            raise TypeError(f"rule '{name}': params must be a dataclass")
        cls.name = name
        cls.params_class = params
        cls.pair = pair
        RULES[name] = cls
        return cls

    return wrap


def at_most(values: np.ndarray, limit: float) -> np.ndarray:
    return np.asarray(values) <= limit


def at_least(values: np.ndarray, limit: float) -> np.ndarray:
    return np.asarray(values) >= limit


def floats(values) -> np.ndarray:
    return np.fromiter(values, dtype=np.float64)
