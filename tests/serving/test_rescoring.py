"""fairseq-compatible beam re-ranking: capped hypotheses that cannot win are not re-scored, and no output changes."""

import math
from types import SimpleNamespace

import pytest

from serving.parity import read_test_set
from serving.translator import DecodingOptions, Translator, fairseq_scores


@pytest.mark.parametrize("penalty", [1.0, 0.6])
def test_bound_on_a_real_model_is_never_below_the_exact_score(tiny_model, penalty):
    """The skip rests on how CT2 scores a hypothesis cut at the cap (Σ log p without the prefix / len^lenpen):
    on the tiny model, where every hypothesis reaches the cap, the bound holds for all of them."""
    translator = Translator(tiny_model.model, intra_threads=1)
    cap = 12
    options = DecodingOptions(beam_size=4, max_decoding_length=cap, length_penalty=penalty)
    batch = [translator.encode(text, "en", 250)
             for text in read_test_set(tiny_model.test_set("en-de"), "en-de", 40).sources]
    target = translator.lang_token("de")
    results = translator.model.translate_batch(batch, target_prefix=[[target]] * len(batch), beam_size=4,
                                               num_hypotheses=4, return_scores=True, max_decoding_length=cap + 1,
                                               length_penalty=penalty)
    prefix = translator.prefix_log_probs(batch, target, options)
    exact = fairseq_scores(results, prefix, penalty)
    translator._rescore_capped(batch, results, exact, prefix, cap + 1, options, prune=False)
    capped = [(i, k) for i, r in enumerate(results) for k, h in enumerate(r.hypotheses) if len(h) >= cap + 1]
    assert len(capped) > 100
    for i, k in capped:
        length = len(results[i].hypotheses[k])
        bound = (results[i].scores[k] * length ** penalty + prefix[i]) / (length + 1) ** penalty
        assert exact[i][k] <= bound + 1e-5
    # With every hypothesis capped there is nothing to skip: the default (pruning) call gives the same scores.
    pruned = fairseq_scores(results, prefix, penalty)
    translator._rescore_capped(batch, results, pruned, prefix, cap + 1, options)
    assert pruned == exact


def test_capped_hypotheses_that_cannot_win_are_skipped():
    cap, prefix = 5, [-1.0, -2.0]
    scored_requests = []

    class Model:  # score_batch as CT2 returns it: log-probs of prefix, pieces and </s>
        def score_batch(self, sources, targets, **_):
            scored_requests.extend(targets)
            return [SimpleNamespace(log_probs=[-0.5] * (len(t) + 1)) for t in targets]

    capped = ["__de__", "a", "a", "a", "a"]
    results = [
        # 0: one uncapped hypothesis (exact fairseq score -0.4); a poor capped one (skipped), a strong one (scored)
        SimpleNamespace(hypotheses=[["__de__", "b"], capped, ["__de__", "c", "c", "c", "c"]], scores=[-0.3, -2.0, -0.01]),
        # 1: every hypothesis capped: all are scored
        SimpleNamespace(hypotheses=[capped, capped], scores=[-0.2, -0.9]),
    ]
    scores = [[-0.4, 0.0, 0.0], [0.0, 0.0]]
    translator = SimpleNamespace(model=Model())
    Translator._rescore_capped(translator, [["__en__"]] * 2, results, scores, prefix, cap, DecodingOptions())
    assert scored_requests == [results[0].hypotheses[2], capped, capped]
    assert scores[0][1] == pytest.approx((-2.0 * 5 - 1.0) / 6)  # the bound, below -0.4: cannot win
    assert scores[0][2] == scores[1][0] == scores[1][1] == pytest.approx(-0.5)  # exact: mean of 6 log-probs
    assert max(range(3), key=lambda k: scores[0][k]) == 0
    assert not math.isnan(sum(scores[0]))
