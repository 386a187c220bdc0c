#!/usr/bin/env python3
"""Packages the GPU machine lacks, trimmed to fit a call's 64 MiB, as installed trees in .tar.xz "packs".

The lent GPU machines have no network, no fairseq and no ctranslate2 (docs/benchmarks.md, "GPU run"). Their
wheels are 63 MB together, too much beside the data in one call, so each pack is what
`pip install --no-deps --target` writes for cp312 manylinux, minus what this project never runs, compressed
with xz:

  fairseq    ve-fairseq 0.12.3 + hydra-core, omegaconf, antlr4-python3-runtime (built from its sdist, pure Python)
             and bitarray; without fairseq/examples (speech/vision recipes, 17 MB) and the three torch C++
             extensions libnat, libbase and alignment_train_cpu_binding (non-autoregressive models, BASE layers and
             alignment training: imported lazily by code this project does not run, and built against another torch)
  ct2        ctranslate2, with the debug information of its Python binding removed (strip --strip-debug: 69 → 2 MB;
             the machine code is untouched)

Each pack holds `pack.json`: the modules it provides, the wheels it came from (name, sha256) and what was removed.
The driver extracts a pack into its site folder only when those modules are not importable already.

    python benchmarks/gpu/packs.py build --wheels DIR --out DIR [--python-version 3.12]
    python benchmarks/gpu/packs.py list DIR...      (what the packs hold; sizes)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKS = {
    "fairseq": {
        "wheels": ("ve_fairseq-", "hydra_core-", "omegaconf-", "antlr4_python3_runtime-", "bitarray-"),
        "modules": ("fairseq", "fairseq_cli", "hydra", "omegaconf", "antlr4", "bitarray"),
        "remove": ("bin", "fairseq/examples", "fairseq/libnat.*.so", "fairseq/libbase.*.so",
                   "alignment_train_cpu_binding.*.so", "pydevd_plugins"),
        "strip": (),
    },
    "ct2": {
        "wheels": ("ctranslate2-",),
        "modules": ("ctranslate2",),
        "remove": ("bin",),
        "strip": ("ctranslate2/_ext.*.so",),
    },
}
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64")
PACK_JSON = "pack.json"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_pack(name: str, wheels: list[Path], out_dir: Path, python_version: str) -> Path:
    spec = PACKS[name]
    chosen = [w for w in wheels if w.name.startswith(spec["wheels"])]
    missing = [prefix for prefix in spec["wheels"] if not any(w.name.startswith(prefix) for w in chosen)]
    if missing:
        raise SystemExit(f"packs: {name}: no wheel for {', '.join(p.rstrip('-') for p in missing)} in the wheel folder")
    tag = "cp" + python_version.replace(".", "")
    with tempfile.TemporaryDirectory(prefix=f"pack-{name}-") as tmp:
        site = Path(tmp) / "site"
        command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--no-compile",
                   "--target", str(site), "--python-version", python_version, "--implementation", "cp",
                   "--only-binary=:all:", *[arg for p in PLATFORMS for arg in ("--platform", p)], *map(str, chosen)]
        subprocess.run(command, check=True)
        removed = []
        for pattern in spec["remove"]:
            for path in sorted(site.glob(pattern)):
                removed.append(str(path.relative_to(site)))
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        for pattern in spec["strip"]:
            for path in sorted(site.glob(pattern)):
                subprocess.run(["strip", "--strip-debug", str(path)], check=True)
                removed.append(f"{path.relative_to(site)}: debug sections (strip --strip-debug)")
        for module in spec["modules"]:
            if not (site / module).exists():
                raise SystemExit(f"packs: {name}: module {module} is not in the installed tree")
        manifest = {"name": name, "python": tag, "modules": list(spec["modules"]),
                    "wheels": {w.name: sha256(w) for w in chosen}, "removed": removed}
        (site / PACK_JSON).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"{name}-{tag}.tar.xz"
        partial = target.with_suffix(".partial")
        # Deterministic member order and metadata, so the same wheels give the same pack.
        with tarfile.open(partial, "w:xz", preset=6, format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(site.rglob("*")):
                info = tar.gettarinfo(str(path), arcname=str(path.relative_to(site)))
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                if info.isfile():
                    with open(path, "rb") as handle:
                        tar.addfile(info, handle)
                else:
                    tar.addfile(info)
        partial.rename(target)
    return target


def read_manifest(pack: Path) -> dict:
    with tarfile.open(pack, "r:xz") as tar:
        member = tar.extractfile(PACK_JSON)
        if member is None:
            raise ValueError(f"{pack}: no {PACK_JSON}")
        return json.loads(member.read().decode("utf-8"))


def extract(pack: Path, site: Path) -> dict:
    """Extract `pack` into `site` (created); return its manifest."""
    site.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(pack, "r:xz") as tar:
            tar.extractall(site, filter="data")
    except (tarfile.TarError, lzma.LZMAError, EOFError) as error:
        raise ValueError(f"{pack}: damaged pack ({error})") from None
    manifest = json.loads((site / PACK_JSON).read_text(encoding="utf-8"))
    (site / PACK_JSON).rename(site / f"{manifest['name']}.{PACK_JSON}")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build every pack from a folder of downloaded wheels")
    build.add_argument("--wheels", type=Path, required=True)
    build.add_argument("--out", type=Path, required=True, help="packs go to OUT/<name>/<name>-cpXY.tar.xz")
    build.add_argument("--python-version", default="3.12")
    build.add_argument("--only", choices=sorted(PACKS), action="append")
    listing = sub.add_parser("list", help="show what packs hold")
    listing.add_argument("packs", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "build":
        wheels = sorted(args.wheels.glob("*.whl"))
        for name in args.only or sorted(PACKS):
            target = build_pack(name, wheels, args.out / name, args.python_version)
            print(f"{target}: {target.stat().st_size / 2**20:.1f} MiB")
        return 0
    for pack in args.packs:
        manifest = read_manifest(pack)
        print(f"{pack}: {pack.stat().st_size / 2**20:.1f} MiB, {manifest['python']}, modules "
              f"{', '.join(manifest['modules'])}, from {', '.join(manifest['wheels'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
