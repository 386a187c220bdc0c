"""Rules, one module per family. Importing this package registers all built-in rules in `RULES`."""

from cleaning.rules.base import RULES, NoParams, Rule, RuleContext, register_rule
from cleaning.rules import (  # noqa: F401  (each module registers its rules)
    agreement, content, language, learned, length, lexical, markup, noise, script)
from cleaning.views import PairBatch, Side

__all__ = ["RULES", "NoParams", "PairBatch", "Rule", "RuleContext", "Side", "register_rule"]
