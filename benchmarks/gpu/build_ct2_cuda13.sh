#!/usr/bin/env bash
# Fallback for the GPU run (issue 18): CTranslate2 built against CUDA 13 for sm_90 (H100/H200), packed like the
# wheel's pack (packs.py) so run.sh can carry it instead.
#
# Why: the PyPI wheel's libctranslate2 dlopens libcublas.so.12, and the lent machines have cuBLAS 13 only. run.sh
# first tries a libcublas.so.12 → libcublas.so.13 link (serving/engine.py); a report on OpenNMT/CTranslate2#1933
# says float16 then works and int8_float16 crashes until CTranslate2 is rebuilt for CUDA 13. This script is that
# rebuild: CUDA only (no MKL/oneDNN CPU backends: the GPU run never decodes on the CPU with it), one GPU
# architecture, cuBLAS loaded at run time (CUDA_DYNAMIC_LOADING=ON, so libctranslate2 names libcublas.so.13 and
# only cuBLAS's headers are needed to build), the Python binding for CPython 3.12 (the GPU image's Python).
#
# Needs (none of it reachable from the GPU machine, which has no network; build on a CPU machine and carry the pack):
#   CUDA_HOME      CUDA 13 toolkit with nvcc (default /usr/local/cuda-13.0)
#   CUBLAS_WHEEL   the nvidia-cublas 13.x wheel (its nvidia/cu13/include holds cublas_v2.h; default: pip download)
#   SRC            CTranslate2 source with the submodules spdlog, cpu_features and thrust (NVIDIA/cccl); default:
#                  git clone --recursive --branch v$CT2_VERSION https://github.com/OpenNMT/CTranslate2
#   PYTHON312      a CPython 3.12 interpreter (pybind11 and setuptools are installed into a venv beside the build)
#   cmake ≥ 3.18 (FindCUDA), g++ ≥ 9, xz
# Env: ARCH (9.0), JOBS (nproc), BUILD (benchmarks/gpu/cache/ct2-build), OUT (benchmarks/gpu/cache/ct2-cuda13)
# Result: $OUT/ct2-cp312.tar.xz; run with `--set packs.ct2=$OUT/ct2-cp312.tar.xz` and carry $OUT instead of
# benchmarks/gpu/cache/ct2. The script prints the pack's size: it must fit the 64 MiB a call carries with the rest.
#
# On a shared 2-core machine: JOBS=1 nice -n 19 bash benchmarks/gpu/build_ct2_cuda13.sh (hours; see
# docs/benchmarks.md for what was tried).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda-13.0}
ARCH=${ARCH:-9.0}
JOBS=${JOBS:-$(nproc)}
CT2_VERSION=${CT2_VERSION:-4.8.1}
BUILD=$(realpath -m "${BUILD:-benchmarks/gpu/cache/ct2-build}")
OUT=$(realpath -m "${OUT:-benchmarks/gpu/cache/ct2-cuda13}")
PYTHON312=${PYTHON312:-python3.12}
mkdir -p "$BUILD" "$OUT"
step() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "0 tools"
"$CUDA_HOME/bin/nvcc" --version | tail -1
cmake --version | head -1
"$PYTHON312" --version

step "1 source"
if [ -z "${SRC:-}" ]; then
  SRC="$BUILD/src"
  [ -d "$SRC/.git" ] || git clone --recursive --branch "v$CT2_VERSION" https://github.com/OpenNMT/CTranslate2 "$SRC"
fi
SRC=$(realpath "$SRC")
for module in spdlog cpu_features thrust/cub thrust/thrust thrust/libcudacxx/include; do
  [ -d "$SRC/third_party/$module" ] || { echo "build_ct2_cuda13.sh: $SRC/third_party/$module is missing (submodules?)" >&2; exit 1; }
done
echo "CTranslate2 $(sed -n 's/__version__ = "\(.*\)"/\1/p' "$SRC/python/ctranslate2/version.py") from $SRC"

step "2 cuBLAS 13 headers"
if [ ! -f "$BUILD/cublas/include/cublas_v2.h" ]; then
  if [ -z "${CUBLAS_WHEEL:-}" ]; then
    "$PYTHON312" -m pip download -q --no-deps --only-binary=:all: -d "$BUILD/wheels" "nvidia-cublas>=13,<14"
    CUBLAS_WHEEL=$(ls "$BUILD"/wheels/nvidia_cublas-13*.whl | head -1)
  fi
  rm -rf "$BUILD/cublas.partial" && mkdir -p "$BUILD/cublas.partial/include"
  unzip -q -j -o "$CUBLAS_WHEEL" 'nvidia/cu13/include/*' -d "$BUILD/cublas.partial/include"
  mv "$BUILD/cublas.partial" "$BUILD/cublas"
fi
ls "$BUILD/cublas/include" | tr '\n' ' '; echo

step "3 libctranslate2 (CUDA $ARCH, dynamic cuBLAS, no CPU GEMM backend)"
cmake -S "$SRC" -B "$BUILD/cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$BUILD/install" \
  -DWITH_CUDA=ON -DCUDA_DYNAMIC_LOADING=ON -DCUDA_ARCH_LIST="$ARCH" -DCUDA_TOOLKIT_ROOT_DIR="$CUDA_HOME" \
  -DWITH_CUDNN=OFF -DWITH_MKL=OFF -DWITH_DNNL=OFF -DWITH_RUY=OFF -DWITH_OPENBLAS=OFF -DOPENMP_RUNTIME=COMP \
  -DENABLE_CPU_DISPATCH=OFF -DBUILD_CLI=OFF -DBUILD_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="-I$BUILD/cublas/include" -DCUDA_NVCC_FLAGS="-I$BUILD/cublas/include" \
  -DCMAKE_POLICY_DEFAULT_CMP0146=OLD
cmake --build "$BUILD/cmake" -j "$JOBS"
cmake --install "$BUILD/cmake"
strings "$BUILD"/install/lib*/libctranslate2.so.* | grep -m1 -o 'libcublas\.so\.[0-9]*' || true

step "4 Python binding (cp312)"
[ -x "$BUILD/venv312/bin/python" ] || "$PYTHON312" -m venv "$BUILD/venv312"
"$BUILD/venv312/bin/python" -m pip install -q pybind11 setuptools wheel
rm -rf "$BUILD/site" && mkdir -p "$BUILD/site"
(cd "$SRC/python" && CTRANSLATE2_ROOT="$BUILD/install" LDFLAGS="-Wl,-rpath,\$ORIGIN" \
  "$BUILD/venv312/bin/python" -m pip install -q --no-deps --no-build-isolation --target "$BUILD/site" .)
cp -P "$BUILD"/install/lib*/libctranslate2.so* "$BUILD/site/ctranslate2/"

step "5 pack"
"$BUILD/venv312/bin/python" - "$BUILD/site" "$OUT/ct2-cp312.tar.xz" "$SRC" "$ARCH" <<'PY'
import json, subprocess, sys, tarfile
from pathlib import Path
site, target, src, arch = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
commit = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
(site / "pack.json").write_text(json.dumps({
    "name": "ct2", "python": "cp312", "modules": ["ctranslate2"], "wheels": {},
    "built_from": {"source": src, "commit": commit, "cuda_arch": arch, "cublas": "dynamic (libcublas.so.13)"},
    "removed": []}, indent=1) + "\n")
with tarfile.open(target, "w:xz", preset=6) as tar:
    for path in sorted(site.rglob("*")):
        tar.add(path, arcname=str(path.relative_to(site)), recursive=False)
print(f"{target}: {target.stat().st_size / 2**20:.1f} MiB")
PY
echo "carry: --set packs.ct2=${OUT#$ROOT/}/ct2-cp312.tar.xz, carry ${OUT#$ROOT/} (instead of benchmarks/gpu/cache/ct2)"
