"""Rules, one module per family. Importing this package registers all built-in rules in `RULES`."""

from cleaning.rules.base import RULES, NoParams, PairBatch, Rule, RuleContext, Side, register_rule
from cleaning.rules import agreement, content, language, length, markup, noise, script  # noqa: F401  (registers)
from cleaning import learned, lexicon  # noqa: F401,E402  (register the `learned` and `lexical` rules)

__all__ = ["RULES", "NoParams", "PairBatch", "Rule", "RuleContext", "Side", "register_rule"]
