"""A model directory in the `volctrans export` format with random weights, built in about a second (test-only)."""

from __future__ import annotations


def build_random_model(out, sentences: list[str], pairs: list[str], embed_dim: int = 32, ffn_dim: int = 64,
                       max_positions: int = 128, seed: int = 0):
    """A model directory in the `volctrans export` format with random weights: a real SentencePiece model and a
    real CTranslate2 transformer (1+1 layers), built in about a second without fairseq. Its outputs are noise
    that runs to the length cap, so the cost of a request is set by the decoding options: what tests of the
    serving machinery (queues, deadlines, errors) need, not of translation quality."""
    import io
    import json
    from pathlib import Path

    import numpy as np
    import sentencepiece as spm
    from ctranslate2.specs import transformer_spec

    from volctrans.artifacts import LANG_DICT, LANG_TOKEN, MODEL_CONFIG, MODEL_FORMAT, SPM_MODEL, lang_token

    out = Path(out)
    out.mkdir(parents=True)
    langs = sorted({lang for pair in pairs for lang in pair.split("-", 1)})
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(sentences), model_writer=model, vocab_size=1000,
                                   character_coverage=0.995,
                                   hard_vocab_limit=False, model_type="unigram", minloglevel=2)
    (out / SPM_MODEL).write_bytes(model.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocabulary = specials + [piece for piece in pieces if piece not in specials] + [lang_token(lang) for lang in langs]
    rng = np.random.default_rng(seed)
    d, f, v = embed_dim, ffn_dim, len(vocabulary)

    def shape(path: str) -> tuple[int, ...]:
        if path.endswith(("gamma", "beta")):
            return (d,)
        if "embeddings" in path or "projection" in path:
            return (v, d)
        if "ffn/linear_0" in path:
            return (f, d)
        if "ffn/linear_1" in path:
            return (d, f)
        if "self_attention/linear_0" in path:
            return (3 * d, d)  # fused query/key/value
        if "/attention/linear_1" in path:
            return (2 * d, d)  # fused key/value of the encoder output
        return (d, d)

    def fill(spec, path: str) -> None:
        for name, value in list(vars(spec).items()):
            if name.startswith("_"):
                continue
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if hasattr(item, "__dict__"):
                        fill(item, f"{path}/{name}_{i}")
            elif hasattr(value, "__dict__") and not isinstance(value, np.ndarray):
                fill(value, f"{path}/{name}")
            elif value is None:  # a required weight
                full = f"{path}/{name}"
                array = (np.ones(shape(full)) if name == "gamma" else np.zeros(shape(full)) if name == "beta"
                         else rng.normal(0.0, 0.3, shape(full)))
                setattr(spec, name, array.astype(np.float32))

    spec = transformer_spec.TransformerSpec.from_config((1, 1), 2)
    fill(spec, "")
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.optimize("float32")
    spec.save(str(out))
    metadata = {"format": MODEL_FORMAT, "langs": langs, "lang_token": LANG_TOKEN, "quantization": "float32",
                "lang_pairs": list(pairs), "max_source_positions": max_positions,
                "max_target_positions": max_positions, "provenance": {"random_weights": True}}
    (out / MODEL_CONFIG).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    (out / LANG_DICT).write_text("".join(f"{lang}\n" for lang in langs), encoding="utf-8")
    return out
