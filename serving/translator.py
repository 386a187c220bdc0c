"""Batch translation with an exported CTranslate2 model: language tokens, SentencePiece, streaming in order.

Source tokens are `[__src__, pieces...]` (CT2 appends </s>), the target is forced to start with `__tgt__`, which is
stripped from the output. Empty input lines give empty output lines without touching the model. Inputs longer than
`max_input_pieces` SentencePiece pieces (at most the model's positions minus 2) are truncated to that many pieces,
and outputs stop at `max_decoding_length` (likewise bounded by the model): documented rules, never a crash.
With `max_length_ratio` A > 0 each output is also capped at int(A × source pieces + `max_length_extra`), fairseq's
`--max-len-a/--max-len-b` rule: an undertrained model that repeats itself then stops near the source length
instead of running to the global cap, which is what makes decoding of weak models slow.

Beam search is re-ranked to match fairseq: CTranslate2 leaves the forced `__tgt__` token's log-prob out of a
hypothesis score but counts the token in the length normalisation, so it prefers shorter outputs than fairseq. We
ask for the n-best with scores, add log p(__tgt__ | source) / (len + 1)^lenpen (len counts the language token, +1
for </s>, as fairseq's `eos_scores /= (step + 1) ** len_penalty`) and keep the best: see docs/serving.md.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from serving.engine import check_cuda
from volctrans.artifacts import LANG_TOKEN, SPM_MODEL, load_model_config
from volctrans.errors import VolctransError

logger = logging.getLogger(__name__)

@dataclass
class DecodingOptions:
    beam_size: int = 4
    length_penalty: float = 1.0
    max_decoding_length: int = 256
    min_decoding_length: int = 0  # output pieces before </s> is allowed (fairseq --min-len minus the language token)
    max_length_ratio: float = 0.0  # > 0: cap each output at int(ratio × source pieces + max_length_extra) too
    max_length_extra: int = 10
    max_input_pieces: int = 250
    sampling_topk: int = 1  # 1 = no sampling
    sampling_temperature: float = 1.0
    replace_unknowns: bool = False
    max_batch_tokens: int = 4096
    fairseq_scoring: bool = True  # re-rank the beam as fairseq does (see module docstring); no effect on greedy

    def validate(self) -> list[str]:
        problems = []
        if self.beam_size < 1:
            problems.append("beam_size must be ≥ 1")
        if self.sampling_topk != 1 and self.beam_size != 1:
            problems.append("sampling (sampling_topk != 1) needs beam_size 1")
        if self.min_decoding_length < 0 or self.min_decoding_length > self.max_decoding_length:
            problems.append("min_decoding_length must be between 0 and max_decoding_length")
        if self.max_decoding_length < 1 or self.max_input_pieces < 1 or self.max_batch_tokens < 1:
            problems.append("lengths and batch size must be ≥ 1")
        if self.max_length_ratio < 0 or self.max_length_extra < 0:
            problems.append("max_length_ratio and max_length_extra must be ≥ 0")
        if self.sampling_temperature <= 0:
            problems.append("sampling_temperature must be > 0")
        return problems

    def rescores(self) -> bool:
        return self.fairseq_scoring and self.beam_size > 1 and self.sampling_topk == 1


class Translator:
    def __init__(self, model_dir: str | Path, device: str = "cpu", compute_type: str = "default",
                 intra_threads: int = 0, inter_threads: int = 1, device_index: int = 0):
        import ctranslate2
        import sentencepiece as spm

        self.model_dir = Path(model_dir)
        self.metadata = load_model_config(self.model_dir)
        self.langs: list[str] = list(self.metadata["langs"])
        self._lang_token = self.metadata.get("lang_token", LANG_TOKEN)
        self._lang_tokens = {self._lang_token.format(lang=lang) for lang in self.langs}
        # The directions the model was trained on (`lang_pairs` recorded at export). A multilingual model decodes
        # any pair of its language tokens, but an untrained one (de→fr, en→en on an English-centric model) gives
        # garbage: refused. Models exported without the list allow every pair of distinct languages.
        pairs = [pair.split("-", 1) for pair in self.metadata.get("lang_pairs") or [] if "-" in pair]
        self.directions: list[tuple[str, str]] = sorted({(source, target) for source, target in pairs}) or [
            (source, target) for source in self.langs for target in self.langs if source != target]
        # fairseq counts the language token and </s> (source) and the start token and forced prefix (target).
        self.max_input_pieces = int(self.metadata.get("max_source_positions", 1024)) - 2
        self.max_output_tokens = int(self.metadata.get("max_target_positions", 1024)) - 2
        self.processor = spm.SentencePieceProcessor(model_file=str(self.model_dir / SPM_MODEL))
        check_cuda(device)  # one clear line instead of a failure inside the first GPU translation
        try:
            self.model = ctranslate2.Translator(str(self.model_dir), device=device, device_index=device_index,
                                                compute_type=compute_type, intra_threads=intra_threads, inter_threads=inter_threads)
        except (RuntimeError, ValueError) as error:
            raise VolctransError(f"{self.model_dir}: cannot load CTranslate2 model: {error}") from None
        logger.debug("%s", self.describe())

    def describe(self) -> str:
        """Which engine and precision this translator runs (`volctrans translate` prints it when it is done)."""
        import ctranslate2

        return (f"CTranslate2 {ctranslate2.__version__} on {self.model.device}, compute type {self.model.compute_type} "
                f"(exported as {self.metadata.get('quantization', '?')})")

    def lang_token(self, lang: str) -> str:
        if lang not in self.langs:
            raise VolctransError(f"unknown language '{lang}' (model languages: {', '.join(self.langs)})")
        return self._lang_token.format(lang=lang)

    def check_direction(self, source_lang: str, target_lang: str) -> None:
        """Raise VolctransError unless both languages are the model's and source→target was trained."""
        self.lang_token(source_lang)
        self.lang_token(target_lang)
        if (source_lang, target_lang) not in self.directions:
            trained = ", ".join(f"{source}→{target}" for source, target in self.directions)
            raise VolctransError(f"{source_lang}→{target_lang} is not a direction this model was trained on "
                                 f"(trained: {trained})")

    def count_pieces(self, text: str) -> int:
        """SentencePiece pieces of `text`, capped at what the model reads (for token budgets)."""
        return min(len(self.processor.encode(text)), self.max_input_pieces)

    def encode(self, text: str, source_lang: str, max_pieces: int) -> list[str]:
        pieces = self.processor.encode(text, out_type=str)[:max_pieces]
        return [self.lang_token(source_lang), *pieces]

    def translate(self, texts: list[str], source_lang: str, target_lang: str,
                  options: DecodingOptions | None = None) -> list[str]:
        """Translate a list of texts; order is kept, empty/whitespace-only texts give ''."""
        return [self.processor.decode(pieces) if pieces else ""
                for pieces in self.translate_pieces(texts, source_lang, target_lang, options)]

    def translate_pieces(self, texts: list[str], source_lang: str, target_lang: str,
                         options: DecodingOptions | None = None) -> list[list[str]]:
        """Like translate(), but the output SentencePiece pieces (language tokens removed) of each text."""
        options = options or DecodingOptions()
        problems = options.validate()
        if problems:
            raise VolctransError("decoding options: " + "; ".join(problems))
        self.check_direction(source_lang, target_lang)
        source_token = self.lang_token(source_lang)
        target_token = self.lang_token(target_lang)
        outputs: list[list[str]] = [[] for _ in texts]
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if not todo:
            return outputs
        max_pieces = min(options.max_input_pieces, self.max_input_pieces)
        batch = [[source_token, *self.processor.encode(texts[i], out_type=str)[:max_pieces]] for i in todo]
        for index, tokens in zip(todo, self.translate_tokens(batch, target_token, options)):
            outputs[index] = tokens
        return outputs

    def output_cap(self, source_pieces: int, options: DecodingOptions) -> int:
        """Most output pieces (language token excluded) for a source of `source_pieces` pieces."""
        cap = min(options.max_decoding_length, self.max_output_tokens)
        if options.max_length_ratio > 0:
            cap = min(cap, int(options.max_length_ratio * source_pieces + options.max_length_extra))
        return max(cap, 1)

    def translate_tokens(self, batch: list[list[str]], target_token: str, options: DecodingOptions) -> list[list[str]]:
        """Translate source token lists (language token first); return output pieces without language tokens."""
        if options.max_length_ratio <= 0:
            return self._translate_capped(batch, target_token, options, self.output_cap(0, options))
        # CT2 takes one cap per call: group the sources by their cap (few distinct values per chunk).
        groups: dict[int, list[int]] = {}
        for i, tokens in enumerate(batch):
            groups.setdefault(self.output_cap(len(tokens) - 1, options), []).append(i)
        outputs: list[list[str]] = [[] for _ in batch]
        for cap, indices in groups.items():
            for i, tokens in zip(indices, self._translate_capped([batch[i] for i in indices], target_token, options, cap)):
                outputs[i] = tokens
        return outputs

    def _translate_capped(self, batch: list[list[str]], target_token: str, options: DecodingOptions,
                          output_cap: int) -> list[list[str]]:
        rescore = options.rescores()
        cap = output_cap + 1  # +1: the language token
        # CT2 sorts the examples by length and re-batches by tokens internally, then restores order.
        results = self.model.translate_batch(
            batch,
            target_prefix=[[target_token]] * len(batch),
            max_batch_size=options.max_batch_tokens,
            batch_type="tokens",
            beam_size=options.beam_size,
            num_hypotheses=options.beam_size if rescore else 1,
            return_scores=rescore,
            length_penalty=options.length_penalty,
            max_decoding_length=cap,
            min_decoding_length=min(options.min_decoding_length + 1, cap),
            sampling_topk=options.sampling_topk,
            sampling_temperature=options.sampling_temperature,
            replace_unknowns=options.replace_unknowns,
        )
        if rescore:
            prefix = self.prefix_log_probs(batch, target_token, options)
            scores = fairseq_scores(results, prefix, options.length_penalty)
            self._rescore_capped(batch, results, scores, prefix, cap, options)
            best = [max(zip(result.hypotheses, per_hypothesis), key=lambda item: item[1])[0]
                    for result, per_hypothesis in zip(results, scores)]
        else:
            best = [result.hypotheses[0] for result in results]
        # The forced target token comes first; an undertrained model may emit more language tokens: drop them.
        return [[token for token in hypothesis if token not in self._lang_tokens] for hypothesis in best]

    def prefix_log_probs(self, batch: list[list[str]], target_token: str, options: DecodingOptions) -> list[float]:
        """log p(target language token | source) for each source: the part of fairseq's score CT2 leaves out."""
        scored = self.model.score_batch(batch, [[target_token]] * len(batch), max_batch_size=options.max_batch_tokens,
                                        batch_type="tokens")
        return [result.log_probs[0] for result in scored]

    def _rescore_capped(self, batch, results, scores: list[list[float]], prefix: list[float], cap: int,
                        options: DecodingOptions, prune: bool = True) -> None:
        """Hypotheses cut at the length cap have no </s>: fairseq forces one there and counts its log-prob, so
        score those exactly (score_batch appends </s>) instead of correcting CT2's score.

        Scoring costs a forward pass over the whole hypothesis, as much as decoding it. A capped hypothesis that
        cannot win is skipped: CT2 scores it (Σ log p without the prefix) / len^lenpen, so its fairseq score is at
        most (that sum + prefix log-prob) / (len + 1)^lenpen (the forced </s> only adds a log-prob ≤ 0); below the
        best exact score of an uncapped hypothesis of the same source, it loses whatever </s> costs."""
        penalty = options.length_penalty
        where = []
        for i, result in enumerate(results):
            capped = [k for k, hypothesis in enumerate(result.hypotheses) if len(hypothesis) >= cap]
            if not capped:
                continue
            best_uncapped = max((score for k, score in enumerate(scores[i]) if k not in capped), default=-math.inf)
            for k in capped:
                length = len(result.hypotheses[k])
                bound = (result.scores[k] * length ** penalty + prefix[i]) / (length + 1) ** penalty
                scores[i][k] = bound  # replaced by the exact score below unless it cannot win
                if not prune or bound >= best_uncapped:
                    where.append((i, k))
        if not where:
            return
        scored = self.model.score_batch([batch[i] for i, _ in where], [results[i].hypotheses[k] for i, k in where],
                                        max_batch_size=options.max_batch_tokens, batch_type="tokens")
        for (i, k), result in zip(where, scored):
            scores[i][k] = sum(result.log_probs) / len(result.log_probs) ** penalty


def fairseq_scores(results, prefix_log_probs: list[float], length_penalty: float) -> list[list[float]]:
    """fairseq's score for each hypothesis of each n-best list: CT2 score + prefix log-prob / (len + 1)^lenpen.

    CT2's score is (Σ log p excluding the forced prefix) / (len + 1)^lenpen, len = hypothesis tokens including the
    prefix, +1 for </s>; fairseq's is the same sum including the prefix over the same length. `max` over these
    keeps the first (CT2's order) on ties.
    """
    return [[score + prefix / (len(hypothesis) + 1) ** length_penalty
             for hypothesis, score in zip(result.hypotheses, result.scores)]
            for result, prefix in zip(results, prefix_log_probs)]
