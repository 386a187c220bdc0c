"""Prepare corpora for fairseq: one joint SentencePiece model over all languages, encode, binarize.

Output folder (read by `train` and `export`; nothing here reaches back into the corpus folders afterwards):

    OUT/spm.model, spm.vocab      joint SentencePiece model
    OUT/dict.txt                  fairseq dictionary (shared by all languages; language tokens are added by the task)
    OUT/bin/                      the first corpus (main, trusted source): {train,valid,test}.en-xx.{en,xx}.{bin,idx}
    OUT/bin-<name>/               every further corpus, binarized on its own (train only) so its identity survives
                                  as a fairseq data category that training can weight
    OUT/bin*/langs.txt            the --lang-dict: one language per line, fixed order (the CTranslate2 converter
                                  looks for it next to the binarized data)
    OUT/prepared.json             config, languages, sources with pairs and counts per split

Every dev/test file (and, when no SentencePiece model is trained, every training file) is read once before any
work, so bad input stops the run in seconds with `file:line: reason`. The folder is built in a hidden staging
folder next to OUT and replaces OUT whole at the end: a rerun into an existing OUT never leaves an old
`prepared.json` or `bin-*` next to a new `spm.model`, and a failed run leaves OUT as it was. An existing OUT that
holds anything `prepare` does not write is refused rather than replaced.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from volctrans.artifacts import BT_TAG, DICTIONARY, LANG_DICT, PREPARED, SPM_MODEL, load_prepared
from volctrans.data.corpus import Manifest
from volctrans.errors import VolctransError
from volctrans.io import atomic_write, iter_tsv_rows, staged_directory

logger = logging.getLogger(__name__)

# fairseq names the dev split "valid".
FAIRSEQ_SPLIT = {"train": "train", "dev": "valid", "test": "test"}


VOCAB_FILES = (SPM_MODEL, "spm.vocab", DICTIONARY)


@dataclass
class PrepareConfig:
    corpora: list[str]
    out: str
    langs: list[str] | None = None  # target languages to keep (default: all in the corpora)
    vocab_size: int = 8000
    model_type: str = "unigram"
    character_coverage: float = 0.9995  # below 1.0 so rare CJK characters map to <unk> instead of bloating vocab
    spm_sentences_per_lang: int = 300_000  # balanced sample per language for SentencePiece training
    max_train_pieces: int = 250  # longer training pairs are dropped (counted), fairseq rejects them otherwise
    seed: int = 1
    workers: int = 1
    # Kept as single pieces: the tagged back-translation marker.
    user_symbols: list[str] = field(default_factory=lambda: [BT_TAG])
    # A prepared folder whose SentencePiece model and dictionary are reused instead of training new ones, so a
    # model trained on that folder can be fine-tuned on this one (e.g. after adding back-translations).
    vocab_from: str | None = None

    def validate(self) -> list[str]:
        problems = []
        if not self.corpora:
            problems.append("corpora: list at least one corpus directory")
        if self.vocab_size < 100:
            problems.append("vocab_size: must be ≥ 100")
        if self.model_type not in ("unigram", "bpe"):
            problems.append("model_type: must be 'unigram' or 'bpe'")
        if not 0.9 <= self.character_coverage <= 1.0:
            problems.append("character_coverage: must be in [0.9, 1.0]")
        if self.vocab_from is not None:
            missing = [name for name in VOCAB_FILES if not (Path(self.vocab_from) / name).is_file()]
            if missing:
                problems.append(f"vocab_from: {self.vocab_from} has no {', '.join(missing)} (not a prepared folder)")
        return problems


@dataclass
class _Pair:
    source_lang: str
    target_lang: str
    files: dict[str, Path] = field(default_factory=dict)  # split -> file

    @property
    def name(self) -> str:
        return f"{self.source_lang}-{self.target_lang}"


@dataclass
class _Source:
    """One corpus = one data source (its manifest name), binarized on its own so training can weight it."""

    name: str
    directory: str  # relative to OUT: "bin" for the first (main) source, "bin-<name>" for the others
    pairs: dict[str, _Pair]
    synthetic: dict[str, str] = field(default_factory=dict)  # pair -> machine-generated side (see Manifest)


def _collect_sources(config: PrepareConfig) -> list[_Source]:
    sources: list[_Source] = []
    for index, corpus in enumerate(config.corpora):
        manifest = Manifest.load(corpus)
        if any(source.name == manifest.name for source in sources):
            raise VolctransError(f"two corpora are named '{manifest.name}': source names must be unique")
        if not manifest.name.replace("_", "").isalnum():
            raise VolctransError(f"{corpus}: source name '{manifest.name}' must be letters, digits and '_'")
        pairs: dict[str, _Pair] = {}
        for pair_name in manifest.files:
            source_lang, target_lang = pair_name.split("-", 1)
            if config.langs and target_lang not in config.langs:
                continue
            pair = pairs.setdefault(pair_name, _Pair(source_lang, target_lang))
            for split in FAIRSEQ_SPLIT:
                path = manifest.path(corpus, pair_name, split)
                # Extra sources contribute training data only; dev/test come from the main (trusted) source.
                if path is not None and (index == 0 or split == "train"):
                    pair.files[split] = path
        if not pairs:
            raise VolctransError(f"{corpus}: no language pairs (langs={config.langs})")
        synthetic = {name: side for name in pairs if (side := manifest.synthetic_side(name))}
        if index == 0 and synthetic:
            raise VolctransError(f"{corpus}: the main (trusted) source cannot hold synthetic pairs "
                                 f"({', '.join(synthetic)}); list it after a real corpus")
        sources.append(_Source(manifest.name, "bin" if index == 0 else f"bin-{manifest.name}", pairs, synthetic))
    if config.langs:
        found = {pair.target_lang for source in sources for pair in source.pairs.values()}
        missing = sorted(set(config.langs) - found)
        if missing:
            raise VolctransError("languages not found in the corpora: " + ", ".join(missing))
    return sources


def _read_pairs(path: Path):
    for row in iter_tsv_rows(path, strict=True):
        yield row.source, row.target


def train_sentencepiece(config: PrepareConfig, sources: list[_Source], out: Path) -> None:
    by_lang: dict[str, set[str]] = {}
    for data_source in sources:
        for pair in data_source.pairs.values():
            if "train" not in pair.files:
                continue
            for source, target in _read_pairs(pair.files["train"]):
                by_lang.setdefault(pair.source_lang, set()).add(source)
                by_lang.setdefault(pair.target_lang, set()).add(target)
    rng = random.Random(config.seed)
    sentences: list[str] = []
    for lang in sorted(by_lang):
        unique = sorted(by_lang[lang])
        rng.shuffle(unique)
        sentences.extend(unique[: config.spm_sentences_per_lang])
    rng.shuffle(sentences)
    logger.info("training SentencePiece (%s, %d pieces) on %d sentences", config.model_type, config.vocab_size, len(sentences))
    try:
        _train_spm(config, sentences, out)
    except RuntimeError as error:  # e.g. a vocabulary smaller than the character set of CJK text
        raise VolctransError(f"SentencePiece training failed: {str(error).split('] ')[-1]}") from None


def _train_spm(config: PrepareConfig, sentences: list[str], out: Path) -> None:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_prefix=str(out / "spm"),
        vocab_size=config.vocab_size,
        model_type=config.model_type,
        character_coverage=config.character_coverage,
        num_threads=max(1, config.workers),
        input_sentence_size=len(sentences),
        max_sentence_length=8192,
        hard_vocab_limit=False,
        user_defined_symbols=list(config.user_symbols),  # a tiny sample may not support the full vocabulary size
        minloglevel=2,
    )


def reuse_vocabulary(previous: Path, out: Path, langs: list[str]) -> None:
    """Copy the SentencePiece model and fairseq dictionary of an earlier prepare run. The language tokens fairseq
    appends to the dictionary come from the language list, so it must be the same for the embeddings to line up."""
    previous_langs = (previous / "bin" / LANG_DICT).read_text(encoding="utf-8").split() \
        if (previous / "bin" / LANG_DICT).is_file() else load_prepared(previous).get("langs", [])
    if previous_langs != langs:
        raise VolctransError(f"vocab_from: {previous} was prepared for languages {','.join(previous_langs)}, these "
                             f"corpora have {','.join(langs)}: the language tokens would not line up")
    for name in VOCAB_FILES:
        shutil.copyfile(previous / name, out / name)
    logger.info("reusing the SentencePiece model and dictionary of %s", previous)


def write_fairseq_dictionary(spm_vocab: Path, dict_path: Path) -> int:
    """fairseq dictionary from the SentencePiece vocabulary: every piece once, specials left to fairseq."""
    specials = {"<unk>", "<s>", "</s>", "<pad>"}
    count = 0
    with atomic_write(dict_path) as handle:
        for line in spm_vocab.read_text(encoding="utf-8").splitlines():
            piece = line.split("\t", 1)[0]
            if piece in specials:
                continue
            handle.write(f"{piece} 1\n")
            count += 1
    return count


def _binarize(raw_dir: Path, pair: _Pair, splits: list[str], dict_path: Path, bin_dir: Path, workers: int) -> None:
    from fairseq import options
    from fairseq_cli import preprocess

    argv = ["--source-lang", pair.source_lang, "--target-lang", pair.target_lang,
            "--srcdict", str(dict_path), "--tgtdict", str(dict_path), "--destdir", str(bin_dir),
            "--workers", str(max(1, workers)), "--dataset-impl", "mmap"]
    for split in splits:
        fairseq_split = FAIRSEQ_SPLIT[split]
        argv += [f"--{fairseq_split}pref", str(raw_dir / f"{fairseq_split}.{pair.name}")]
    args = options.get_preprocessing_parser().parse_args(argv)
    # fairseq logs its whole argument namespace per call; our progress bar says enough.
    logging.getLogger("fairseq_cli.preprocess").setLevel(logging.WARNING)
    preprocess.main(args)


def _encode_pair(processor, pair: _Pair, raw_dir: Path, max_train_pieces: int) -> tuple[dict[str, int], int]:
    """Write SentencePiece-encoded text files for fairseq-preprocess; drop empty and over-long training pairs."""
    counts, dropped = {}, 0
    for split, path in pair.files.items():
        prefix = raw_dir / f"{FAIRSEQ_SPLIT[split]}.{pair.name}"
        kept = 0
        with open(f"{prefix}.{pair.source_lang}", "w", encoding="utf-8") as src_out, \
             open(f"{prefix}.{pair.target_lang}", "w", encoding="utf-8") as tgt_out:
            for source, target in _read_pairs(path):
                source_pieces = processor.encode(source, out_type=str)
                target_pieces = processor.encode(target, out_type=str)
                too_long = split == "train" and max(len(source_pieces), len(target_pieces)) > max_train_pieces
                if not source_pieces or not target_pieces or too_long:
                    dropped += 1
                    continue
                src_out.write(" ".join(source_pieces) + "\n")
                tgt_out.write(" ".join(target_pieces) + "\n")
                kept += 1
        counts[split] = kept
    return counts, dropped


# What `prepare` writes into OUT: an existing OUT holding anything else is not ours to replace.
_OWN_NAMES = ("spm.model", "spm.vocab", "dict.txt", PREPARED, "bin")


def _is_own(name: str) -> bool:
    bare = name[1:] if name.startswith(".") else name  # hidden: a temporary file of one of ours
    return any(bare == own or bare.startswith(own + ".") for own in _OWN_NAMES) or bare.startswith("bin-")


def check_output_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise VolctransError(f"{out}: exists and is not a folder")
    if out.is_dir():
        foreign = sorted(path.name for path in out.iterdir() if not _is_own(path.name))
        if foreign:
            raise VolctransError(f"{out}: holds files `volctrans prepare` did not write ({', '.join(foreign[:5])}): "
                                 "it would replace the whole folder; give another --out")


def check_inputs(sources: list[_Source], include_train: bool) -> None:
    """Read dev/test files (and train files when asked) once, strictly: bad input fails before any work."""
    for data_source in sources:
        for pair in data_source.pairs.values():
            for split, path in pair.files.items():
                if split != "train" or include_train:
                    for _ in _read_pairs(path):
                        pass


def prepare(config: PrepareConfig) -> dict:
    import sentencepiece as spm

    out = Path(config.out)
    sources = _collect_sources(config)
    langs = sorted({lang for source in sources for pair in source.pairs.values()
                    for lang in (pair.source_lang, pair.target_lang)})
    check_output_folder(out)
    check_inputs(sources, include_train=bool(config.vocab_from))
    with staged_directory(out) as staging:
        if config.vocab_from:
            reuse_vocabulary(Path(config.vocab_from), staging, langs)
        else:
            train_sentencepiece(config, sources, staging)
            write_fairseq_dictionary(staging / "spm.vocab", staging / "dict.txt")
        vocabulary = sum(1 for _ in open(staging / "dict.txt", encoding="utf-8"))
        processor = spm.SentencePieceProcessor(model_file=str(staging / "spm.model"))
        raw = staging / ".raw"  # encoded text for fairseq-preprocess, removed before the folder is put in place
        summary_sources = {}
        for data_source in sources:
            counts: dict[str, dict[str, int]] = {}
            dropped = 0
            bin_dir = staging / data_source.directory
            bin_dir.mkdir()
            # Every source folder carries the dictionaries and the lang-dict, so any of them is a valid data dir.
            (bin_dir / LANG_DICT).write_text("".join(f"{lang}\n" for lang in langs), encoding="utf-8")
            for pair in tqdm(list(data_source.pairs.values()), desc=f"encode+binarize {data_source.name}", unit="pair",
                             disable=None):
                raw.mkdir()
                counts[pair.name], pair_dropped = _encode_pair(processor, pair, raw, config.max_train_pieces)
                dropped += pair_dropped
                _binarize(raw, pair, list(pair.files), staging / "dict.txt", bin_dir, config.workers)
                shutil.rmtree(raw)
            summary_sources[data_source.name] = {"dir": data_source.directory, "pairs": counts,
                                                 "synthetic": data_source.synthetic,
                                                 "dropped_empty_or_too_long": dropped}
        main = sources[0]
        summary = {
            "config": asdict(config),
            "langs": langs,
            "main_source": main.name,
            "pairs": summary_sources[main.name]["pairs"],
            "sources": summary_sources,
            "vocabulary": vocabulary,
        }
        with atomic_write(staging / PREPARED) as handle:
            json.dump(summary, handle, indent=2, ensure_ascii=False)
    return summary
