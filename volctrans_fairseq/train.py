"""`python -m volctrans_fairseq.train ARGS`: fairseq-train (fairseq_cli.train.cli_main) with one fix.

fairseq 0.12.3's option parser turns --bf16 into --bf16 --tpu (bf16 training was TPU-only upstream), so a bf16 run on
GPUs dies importing torch_xla. The Trainer itself handles bf16 on any device (model and batches in bfloat16,
FP16Optimizer with fp32 master weights and no loss scaling); this entry point keeps --tpu only when it was asked for.
Everything else is fairseq_cli.train's own code path.
"""

from __future__ import annotations

import sys

from fairseq import options
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from fairseq.distributed import utils as distributed_utils
from fairseq_cli.train import main


def parse_args(argv: list[str]):
    args = options.parse_args_and_arch(options.get_training_parser(), argv)
    if args.bf16 and "--tpu" not in argv:
        args.tpu = False
    return args


def cli_main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    distributed_utils.call_main(convert_namespace_to_omegaconf(args), main)


if __name__ == "__main__":
    cli_main()
