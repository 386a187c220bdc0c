"""`python -m volctrans_fairseq.train ARGS`: fairseq-train (fairseq_cli.train's cli_main) with two fixes.

- fairseq 0.12.3's option parser turns --bf16 into --bf16 --tpu (bf16 training was TPU-only upstream), so a bf16 run
  on GPUs dies importing torch_xla. The Trainer itself handles bf16 on any device (model and batches in bfloat16,
  FP16Optimizer with fp32 master weights and no loss scaling); --tpu is kept only when it was asked for.
- Under torchrun, fairseq takes the rank from the environment but computes the device as rank % (number of GPUs),
  which divides by zero on CPU: with --cpu the rank and world size are read the same way and the device is unused.
  (Without this, `torchrun … --cpu` either fails or, without --distributed-world-size, trains N independent copies.)

Everything else is fairseq_cli.train's own code path.
"""

from __future__ import annotations

import logging
import os
import sys

# `python -m` imported the plugin package first, and with it fairseq, whose import logs and so gives the root logger
# a default stderr handler. Dropped here, fairseq_cli.train's import sets up logging as fairseq-train does (stdout,
# "time | level | name | message": what log readers such as benchmarks/bilevel_overhead.sh parse).
for _handler in list(logging.root.handlers):
    logging.root.removeHandler(_handler)

from fairseq_cli.train import main  # noqa: E402  (configures logging at import)
from fairseq import options  # noqa: E402
from fairseq.dataclass.utils import convert_namespace_to_omegaconf  # noqa: E402
from fairseq.distributed import utils as distributed_utils  # noqa: E402

_TORCHRUN_ENV = ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK")


def parse_args(argv: list[str]):
    args = options.parse_args_and_arch(options.get_training_parser(), argv)
    if args.bf16 and "--tpu" not in argv:
        args.tpu = False
    return args


def config(argv: list[str], environ=os.environ):
    cfg = convert_namespace_to_omegaconf(parse_args(argv))
    dist = cfg.distributed_training
    if (cfg.common.cpu and dist.distributed_init_method is None and dist.distributed_world_size > 1
            and all(key in environ for key in _TORCHRUN_ENV)):
        dist.distributed_init_method = "env://"
        dist.distributed_world_size = int(environ["WORLD_SIZE"])
        dist.distributed_rank = int(environ["RANK"])
        dist.device_id = int(environ.get("LOCAL_RANK", 0))
        dist.distributed_no_spawn = True  # torchrun started the processes
    return cfg


def cli_main(argv: list[str] | None = None) -> None:
    distributed_utils.call_main(config(sys.argv[1:] if argv is None else argv), main)


def _exit_without_teardown() -> None:
    """Leave as soon as training has returned: on one H100 (2026-11-26, num_workers 4) the process took 62 s after
    fairseq's "done training" to exit — prefetching data-loader workers and CUDA teardown, not isolated further —
    against 4 s on a CPU. Checkpoints are written synchronously before this point; logs are flushed here."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    cli_main()
    _exit_without_teardown()
