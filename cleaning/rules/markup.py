"""Markup debris: URLs, HTML/XML tags and entities, escaped unicode left by broken exporters."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cleaning.rules.base import NoParams, Rule, register_rule
from cleaning.text import rows_containing
from cleaning.views import Side


class PatternRule(Rule):
    """Rejects a side where `PATTERN` matches its raw text; texts without a `TRIGGERS` character skip the
    (slower) pattern. Score 1.0 = match."""

    PATTERN: re.Pattern[str]
    TRIGGERS: str

    def score(self, side: Side) -> np.ndarray:
        search, raw = self.PATTERN.search, side.raw
        out = np.zeros(len(raw))
        for i in rows_containing(raw, self.TRIGGERS):
            if search(raw[i]):
                out[i] = 1.0
        return out

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores < 0.5


_URL = re.compile(r"https?://|www\.[\w-]+\.\w|\b[\w.+-]+@[\w-]+\.[\w.]+\b")


@dataclass
class UrlParams:
    # Help text legitimately mentions a URL now and then; reject only when it is most of the segment.
    max_share: float = 0.5


@register_rule("url", UrlParams)
class Url(Rule):
    """Share of the segment taken by URLs/e-mail addresses (bicleaner `no_urls`)."""

    _TOKEN = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.]+")

    def score(self, side: Side) -> np.ndarray:
        out = np.zeros(len(side))
        for i, t in enumerate(side.texts):
            # each alternative of _URL needs one of these substrings: most texts skip the (slow) search
            if ("://" in t or "www." in t or "@" in t) and _URL.search(t):
                out[i] = sum(map(len, self._TOKEN.findall(t))) / max(len(t), 1)
        return out

    def accept(self, scores: np.ndarray) -> np.ndarray:
        return scores <= self.params.max_share


_HTML = re.compile(
    r"</?(?:a|b|i|u|p|br|hr|div|span|li|ul|ol|td|tr|th|table|tbody|img|font|em|strong|h[1-6]|script|style"
    r"|meta|link|body|html|head|title|sup|sub|code|pre|label|input|form|iframe|nav|header|footer|section)\b[^>]*>"
    r"|&(?:nbsp|amp|lt|gt|quot|apos|#\d{2,5}|#x[0-9a-fA-F]{2,4});"
    r"|\b(?:class|style|href|src)=[\"']", re.IGNORECASE)


@register_rule("html", NoParams)
class Html(PatternRule):
    """HTML/XML tags, entities or attributes (bicleaner `no_html`, firefox-translations `html`)."""

    PATTERN, TRIGGERS = _HTML, "<&="


_ESCAPED = re.compile(r"\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\U[0-9a-fA-F]{8}|%u[0-9a-fA-F]{4}|%[0-9A-F]{2}%[0-9A-F]{2}")


@register_rule("escaped_unicode", NoParams)
class EscapedUnicode(PatternRule):
    """Literal `\\u00e9`, `\\xc3` or percent-encoded UTF-8 (bicleaner `no_escaped_unicode`)."""

    PATTERN, TRIGGERS = _ESCAPED, "\\%"
