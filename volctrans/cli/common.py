"""What the command modules share: flags for config fields, the YAML + flags + --set path, decoding and device options.

A flag that sets a config field has that field's name as its `dest` and None as its default, so the defaults live
in one place, the dataclass: `--help` shows them from there, and a flag that was not given leaves the YAML value
(or the dataclass default) alone.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, TypeVar

from serving.translator import DecodingOptions, Translator
from volctrans.config import build_config

T = TypeVar("T")
DECODING = "decoding_"  # dest prefix of the decoding options (a group shared by several commands)


def field_default(cls: type, name: str) -> Any:
    """The default of dataclass field `name` (dataclasses.MISSING when it is required)."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def add_field(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type, name: str, *flags: str,
              help: str = "", prefix: str = "", **kwargs: Any) -> None:
    """A flag for field `name` of config dataclass `cls` (dest: prefix + name); its help shows the dataclass default.

    `prefix` keeps an option group that several commands share apart from a command's own fields of the same name.
    """
    flags = flags or (f"--{name.replace('_', '-')}",)
    default = field_default(cls, name)
    if kwargs.get("action") not in ("store_true", "store_false"):
        if default not in (dataclasses.MISSING, None):
            shown = ",".join(map(str, default)) if isinstance(default, (list, tuple)) else default
            help = f"{help} (default: {shown})" if help else f"default: {shown}"
        long = next((flag for flag in flags if flag.startswith("--")), flags[0])
        if "choices" not in kwargs:
            kwargs.setdefault("metavar", long.lstrip("-").upper().replace("-", "_"))
    parser.add_argument(*flags, dest=prefix + name, default=None, help=help, **kwargs)


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, required: bool = False) -> None:
    """--config YAML and --set KEY=VALUE (repeatable) for config dataclass `cls`."""
    parser.add_argument("--config", required=required,
                        help=f"YAML with {cls.__name__} keys; the flags and --set override it")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (VALUE is YAML; a.b=V for a nested key), e.g. --set seed=2")


def given(cls: type, args: argparse.Namespace, prefix: str = "") -> dict[str, Any]:
    """The fields of `cls` that were given as flags (dest: prefix + field name)."""
    values = {f.name: getattr(args, prefix + f.name, None) for f in dataclasses.fields(cls)}
    return {name: value for name, value in values.items() if value is not None}


def config_from_args(cls: type[T], args: argparse.Namespace, base: dict[str, Any] | None = None) -> T:
    """The config of a command: `base` < --config YAML < flags < --set (volctrans.config.build_config)."""
    return build_config(cls, getattr(args, "config", None), given(cls, args), getattr(args, "set", None) or (), base)


def comma_list(value: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def add_decoding_arguments(parser: argparse.ArgumentParser) -> None:
    """Decoding options (DecodingOptions) shared by translate, serve, bench and parity."""
    group = parser.add_argument_group("decoding")

    def option(name: str, *flags: str, **kwargs: Any) -> None:
        add_field(group, DecodingOptions, name, *flags, prefix=DECODING, **kwargs)

    option("beam_size", "--beam", type=int, help="beam size (1: greedy)")
    option("length_penalty", type=float, help="score / length^penalty, as fairseq --lenpen")
    option("max_decoding_length", type=int, help="output pieces at most (model-bounded)")
    option("min_decoding_length", type=int, help="output pieces before </s> may end it")
    option("max_length_ratio", type=float, metavar="A",
           help="also cap each output at int(A × source pieces + --max-length-extra), as fairseq --max-len-a/b (0: off)")
    option("max_length_extra", type=int, metavar="B")
    option("max_input_pieces", type=int,
           help="longer inputs are truncated to their first N SentencePiece pieces (model-bounded)")
    option("sampling_topk", type=int, help=">1 samples from the top k (needs --beam 1)")
    option("sampling_temperature", type=float)
    option("replace_unknowns", action="store_true", help="replace <unk> by the attended source piece")
    group.add_argument("--ct2-scoring", dest=DECODING + "fairseq_scoring", action="store_false", default=None,
                       help="keep CTranslate2's beam ranking instead of fairseq's (see docs/serving.md)")
    option("max_batch_tokens", "--batch-tokens", type=int, help="tokens per CTranslate2 batch")


def decoding_options(args: argparse.Namespace) -> DecodingOptions:
    """Not validated here: the library validates them together with its own settings and lists every problem."""
    return DecodingOptions(**given(DecodingOptions, args, DECODING))


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("device")
    group.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    group.add_argument("--device-index", type=int, default=0, help="GPU index with --device cuda")
    group.add_argument("--compute-type", default="default", help="CT2 compute type (default: as exported)")
    group.add_argument("--threads", type=int, default=0, help="CPU threads per translator (0: CT2 default)")
    group.add_argument("--workers", type=int, default=1, help="parallel translators (CT2 inter_threads)")


def load_translator(args: argparse.Namespace) -> Translator:
    return Translator(args.model, device=args.device, compute_type=args.compute_type, intra_threads=args.threads,
                      inter_threads=args.workers, device_index=args.device_index)
