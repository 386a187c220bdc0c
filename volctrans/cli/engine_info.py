"""`volctrans engine-info [--model M --device cuda] [--json FILE]`: which CTranslate2 build, cuBLAS and precisions."""

from __future__ import annotations

import argparse
import json

from volctrans.io import atomic_write


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="also load this exported model with each compute type and translate two "
                                        "sentences (each in its own process): which precisions work here")
    parser.add_argument("--device", default="cuda", choices=("cpu", "cuda"), help="device for --model (default cuda)")
    parser.add_argument("--compute-types", help="comma-separated (default: every type the device supports)")
    parser.add_argument("--json", help="also write the report to this file")


def run(args: argparse.Namespace) -> int:
    from serving.engine import engine_info
    from serving.probe import probe_compute_types

    info = engine_info()
    if args.model:
        wanted = info["compute_types"].get(args.device)
        if args.compute_types:
            wanted = [c.strip() for c in args.compute_types.split(",") if c.strip()]
        info["probe"] = {"model": args.model, "device": args.device,
                         "results": probe_compute_types(args.model, args.device, wanted)
                         if isinstance(wanted, list) else f"not run: {wanted}"}
    cublas = info.get("cublas") or {}
    print(f"CTranslate2 {info['ctranslate2']}: {info['build']} ({info['library']})")
    if cublas:
        state = (f"→ {cublas['file']}" + (f", missing {', '.join(cublas['missing'])}" if cublas["missing"] else "")
                 if cublas["loadable"] else f"NOT loadable: {cublas['error']}")
        print(f"cuBLAS {cublas['wanted']}: {state}")
    print(f"CUDA devices: {info['cuda_devices']}")
    for device, types in info["compute_types"].items():
        print(f"compute types ({device}): {', '.join(types) if isinstance(types, list) else types}")
    for compute_type, result in ((info.get("probe") or {}).get("results") or {}).items():
        print(f"probe {args.device} {compute_type}: {result}")
    if args.json:
        with atomic_write(args.json) as handle:
            json.dump(info, handle, indent=2)
            handle.write("\n")
    return 0
