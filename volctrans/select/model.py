"""The model to select for: a fairseq checkpoint with its prepared folder, and pairs encoded as it trains on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from volctrans.artifacts import DICTIONARY, LANG_DICT, SPM_MODEL, checkpoint_args, lang_token, load_checkpoint
from volctrans.errors import VolctransError


@dataclass
class LoadedModel:
    model: nn.Module
    dictionary: object  # fairseq Dictionary with the language tokens appended
    processor: object  # sentencepiece.SentencePieceProcessor
    max_source_positions: int
    max_target_positions: int
    cfg: dict = field(default_factory=dict)  # the checkpoint's cfg (training recipe: criterion, optimizer, dataset)
    num_updates: int = 0  # updates the checkpoint had been trained for (0 when it does not say)

    def lang_token(self, lang: str) -> int:
        index = self.dictionary.index(lang_token(lang))
        if index == self.dictionary.unk():
            raise VolctransError(f"unknown language '{lang}': the model has no {lang_token(lang)} token")
        return index


def load_model(checkpoint: str | Path, data: str | Path | None = None) -> LoadedModel:
    """Rebuild the fairseq transformer of `checkpoint` without its task (no training data is opened).

    The dictionary is the prepared dict.txt plus one `__lang__` token per line of bin/langs.txt, in that order,
    exactly as fairseq's multilingual task augments it; a size mismatch with the checkpoint is an error.
    """
    import sentencepiece as spm
    from fairseq.data import Dictionary
    from fairseq.models.transformer import TransformerModel

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise VolctransError(f"checkpoint not found: {checkpoint}")
    state = load_checkpoint(checkpoint)
    cfg = state.get("cfg")
    model_args = checkpoint_args(state)
    if model_args is None or "model" not in state:
        raise VolctransError(f"{checkpoint}: not a fairseq checkpoint (no cfg/model)")
    if data is None:
        task_data = str(getattr(checkpoint_args(state, "task"), "data", "") or "")
        data = Path(task_data.split(":")[0]).parent if task_data else None
    if data is None or not (Path(data) / DICTIONARY).is_file():
        raise VolctransError(f"prepared data folder with {DICTIONARY} not found: {data} (pass --data)")
    data = Path(data)
    for name in (SPM_MODEL, f"bin/{LANG_DICT}"):
        if not (data / name).is_file():
            raise VolctransError(f"{data / name}: not found (is {data} a `volctrans prepare` folder?)")
    dictionary = Dictionary.load(str(data / DICTIONARY))
    for lang in (data / "bin" / LANG_DICT).read_text(encoding="utf-8").split():
        dictionary.add_symbol(lang_token(lang))
    expected = state["model"]["encoder.embed_tokens.weight"].shape[0]
    if len(dictionary) != expected:
        raise VolctransError(f"{data}: dictionary has {len(dictionary)} entries but the checkpoint expects {expected} "
                             "(wrong --data for this checkpoint?)")

    class _Task:  # all TransformerModel.build_model needs from a task
        source_dictionary = target_dictionary = dictionary

    model = TransformerModel.build_model(model_args, _Task())
    model.load_state_dict(state["model"], strict=True)
    model.eval()  # no dropout: gradients are those of the deterministic loss
    processor = spm.SentencePieceProcessor(model_file=str(data / SPM_MODEL))
    history = state.get("optimizer_history") or [{}]
    return LoadedModel(model, dictionary, processor, int(model_args.max_source_positions),
                       int(model_args.max_target_positions), cfg=cfg or {},
                       num_updates=int(history[-1].get("num_updates", 0) or 0))


def encode_pair(loaded: LoadedModel, source: str, target: str, src_lang: str, tgt_lang: str,
                max_pieces: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Token ids as fairseq's multilingual task trains on them: [__src__] x </s> and [__tgt__] y </s>.

    None when a side is empty after SentencePiece.
    """
    source_pieces = loaded.processor.encode(source, out_type=str)
    target_pieces = loaded.processor.encode(target, out_type=str)
    if not source_pieces or not target_pieces:
        return None
    source_pieces = source_pieces[: min(max_pieces, loaded.max_source_positions - 2)]
    target_pieces = target_pieces[: min(max_pieces, loaded.max_target_positions - 2)]
    d = loaded.dictionary
    src = torch.tensor([loaded.lang_token(src_lang)] + [d.index(p) for p in source_pieces] + [d.eos()])
    tgt = torch.tensor([loaded.lang_token(tgt_lang)] + [d.index(p) for p in target_pieces] + [d.eos()])
    return src, tgt


def collate(examples: Sequence[tuple[torch.Tensor, torch.Tensor]], pad: int, eos: int) -> dict[str, torch.Tensor]:
    """A fairseq batch: left-padded source, right-padded target, decoder input = target shifted right with </s>."""
    from fairseq.data import data_utils

    sources = [src for src, _ in examples]
    targets = [tgt for _, tgt in examples]
    return {
        "src_tokens": data_utils.collate_tokens(sources, pad, eos, left_pad=True),
        "src_lengths": torch.tensor([len(src) for src in sources]),
        "prev_output_tokens": data_utils.collate_tokens(targets, pad, eos, left_pad=False, move_eos_to_beginning=True),
        "target": data_utils.collate_tokens(targets, pad, eos, left_pad=False),
    }


def per_example_loss(model: nn.Module, batch: dict[str, torch.Tensor], pad: int) -> torch.Tensor:
    """(B,) token-averaged negative log-likelihood of each example (no label smoothing)."""
    output = model(batch["src_tokens"], batch["src_lengths"], batch["prev_output_tokens"])
    log_probs = model.get_normalized_probs(output, log_probs=True)
    target = batch["target"]
    nll = -log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    mask = target.ne(pad)
    return (nll * mask).sum(1) / mask.sum(1)
