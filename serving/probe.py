"""Which precisions translate on this machine: load an exported model with each compute type and translate two
sentences, each in its own process, so a crash inside CTranslate2 (an unsupported cuBLAS call, say) ends only that
probe. Used by `volctrans engine-info --model` and the GPU run (benchmarks/gpu).

    python -m serving.probe MODEL DEVICE COMPUTE_TYPE     (one probe; prints "ok (...)" or exits non-zero)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from serving.translator import Translator
from volctrans.errors import VolctransError

PROBE_SENTENCES = ("Click OK to close the dialog.", "Choose Format - Cells.")


def probe_compute_types(model: str | Path, device: str, compute_types: list[str], timeout: float = 300) -> dict:
    """Load `model` with each compute type in its own process and translate two sentences: which precisions work
    here, as measured (a crash inside CTranslate2, e.g. an unsupported cuBLAS call, only ends that process).
    Returns {compute_type: "ok (… s)" | "error: …" | "crashed (signal N)"}."""
    results = {}
    for compute_type in compute_types:
        command = [sys.executable, "-m", "serving.probe", str(model), device, compute_type]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            results[compute_type] = f"error: no answer in {timeout:.0f} s"
            continue
        lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        if done.returncode < 0:
            results[compute_type] = f"crashed (signal {-done.returncode}): {lines[-1] if lines else ''}".rstrip(": ")
        elif done.returncode != 0:
            results[compute_type] = "error: " + (lines[-1] if lines else f"exit status {done.returncode}")
        else:
            results[compute_type] = done.stdout.strip().splitlines()[-1]
    return results


def _probe(model: str, device: str, compute_type: str) -> int:
    start = time.perf_counter()
    try:
        translator = Translator(model, device=device, compute_type=compute_type)
        source = "en" if "en" in translator.langs else translator.langs[0]
        target = next(lang for lang in translator.langs if lang != source)
        outputs = translator.translate(list(PROBE_SENTENCES), source, target)
    except (VolctransError, RuntimeError, ValueError) as error:
        print(str(error).splitlines()[0], file=sys.stderr)
        return 1
    print(f"ok ({translator.model.compute_type} on {translator.model.device}, {time.perf_counter() - start:.1f} s, "
          f"{source}→{target}: {outputs[0][:40]!r})")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 3:
        print("usage: python -m serving.probe MODEL DEVICE COMPUTE_TYPE", file=sys.stderr)
        return 2
    return _probe(*argv)


if __name__ == "__main__":
    sys.exit(main())
