"""Which CTranslate2 build is in use, which precisions it offers, and whether the cuBLAS it needs can be loaded.

CTranslate2's PyPI wheels link the CUDA runtime statically and `dlopen("libcublas.so.12")` at the first GPU
operation; a machine with only CUDA 13 (cuBLAS 13) then fails deep inside the first translation. This module reads
the cuBLAS name the library asks for out of the library file itself, checks with the dynamic loader (the same search
path CTranslate2 will use: LD_LIBRARY_PATH, the ldconfig cache) that it can be loaded, and says so in one line
before a model is touched (`check_cuda`).

Where only another cuBLAS major version is installed, `make_cublas_shim` writes a folder holding a
`libcublas.so.<wanted>` symbolic link to it (and links to its cublasLt) to be put on LD_LIBRARY_PATH before the
process starts (the loader reads LD_LIBRARY_PATH once, at start-up): `python -m serving.engine shim DIR` prints the
`export` line. The wheel resolves its nine cuBLAS functions by name with dlsym, which is what makes this possible;
whether every precision then works is measured, not assumed (serving/probe.py, `volctrans engine-info --model`).
"""

from __future__ import annotations

import ctypes
import functools
import glob
import importlib.util
import mmap
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from volctrans.errors import VolctransError

_CUBLAS_NAME = re.compile(rb"libcublas\.so\.(\d+)")
BUILD_SCRIPT = "benchmarks/gpu/build_ct2_cuda13.sh"


def ct2_package_dir() -> Path | None:
    spec = importlib.util.find_spec("ctranslate2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def ct2_library() -> Path | None:
    """The libctranslate2 shared library the installed package loads (wheel: ctranslate2.libs/; source build:
    next to the package or on the loader path)."""
    package = ct2_package_dir()
    if package is None:
        return None
    for pattern in ("../ctranslate2.libs/libctranslate2*.so*", "libctranslate2*.so*", "../../../libctranslate2*.so*"):
        found = sorted(package.glob(pattern))
        if found:
            return found[0].resolve()
    try:  # a source build installed system-wide (ldconfig), e.g. /usr/local/lib
        listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"libctranslate2\.so\S* .*=> (\S+)", listing)
    return Path(match.group(1)).resolve() if match else None


@functools.lru_cache(maxsize=8)
def cublas_wanted(library: Path | None) -> str | None:
    """The cuBLAS file name the library asks for (`libcublas.so.12`), read from the binary; None for a CPU build."""
    if library is None or not library.is_file():
        return None
    with open(library, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        at = data.find(b"libcublas.so.")
        match = _CUBLAS_NAME.match(data[at:at + 24]) if at >= 0 else None
    return match.group(0).decode() if match else None


# What the PyPI wheel resolves with dlsym after loading cuBLAS (docs/serving.md, FINDINGS): all must be present.
CUBLAS_FUNCTIONS = ("cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasGemmEx",
                    "cublasGemmStridedBatchedEx", "cublasSgemm_v2", "cublasSgemmStridedBatched", "cublasGetMathMode",
                    "cublasGetProperty")


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p), ("dli_sname", ctypes.c_char_p),
                ("dli_saddr", ctypes.c_void_p)]


def probe_library(soname: str) -> dict:
    """Load `soname` with the dynamic loader's own search rules (as CTranslate2's dlopen will) and report
    {"loadable", "path" (as the loader found it), "file" (symbolic links resolved), "missing" functions} or
    {"loadable": False, "error"}."""
    try:
        library = ctypes.CDLL(soname, mode=ctypes.RTLD_LOCAL)
    except OSError as error:
        return {"loadable": False, "error": str(error)}
    missing = [name for name in CUBLAS_FUNCTIONS if not hasattr(library, name)] if "cublas" in soname else []
    report = {"loadable": True, "path": soname, "missing": missing}
    present = next((name for name in CUBLAS_FUNCTIONS if name not in missing), None)
    if present is not None:
        info = _DlInfo()
        if ctypes.CDLL(None).dladdr(ctypes.cast(getattr(library, present), ctypes.c_void_p), ctypes.byref(info)):
            report["path"] = info.dli_fname.decode(errors="replace")
    report["file"] = os.path.realpath(report["path"]) if os.path.exists(report["path"]) else report["path"]
    return report


def find_cublas() -> list[Path]:
    """Installed cuBLAS libraries (any major version): pip's nvidia wheels on sys.path, CUDA toolkits, ldconfig."""
    patterns = []
    for entry in sys.path:
        if entry and os.path.isdir(os.path.join(entry, "nvidia")):
            patterns += [os.path.join(entry, "nvidia", "*", "lib", "libcublas.so.*"),  # cu13 wheels: nvidia/cu13/lib
                         os.path.join(entry, "nvidia", "cublas", "lib", "libcublas.so.*")]  # cu12 wheels
    for root in [os.environ.get("CUDA_HOME", ""), *sorted(glob.glob("/usr/local/cuda*"))]:
        if root:
            patterns += [os.path.join(root, "lib64", "libcublas.so.*"),
                         os.path.join(root, "targets", "*", "lib", "libcublas.so.*")]
    found = {Path(path).resolve(): None for pattern in patterns for path in glob.glob(pattern)}
    try:
        listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10).stdout
        found.update({Path(path).resolve(): None for path in re.findall(r"libcublas\.so\.\d+ .*=> (\S+)", listing)})
    except (OSError, subprocess.SubprocessError):
        pass
    return sorted(path for path in found if re.search(r"libcublas\.so\.\d+", path.name))


def _major(path: Path) -> int:
    return int(re.search(r"libcublas\.so\.(\d+)", path.name).group(1))


def make_cublas_shim(folder: str | Path, wanted: str | None = None) -> dict:
    """Write `folder/libcublas.so.<wanted major>` → the newest installed cuBLAS (and its cublasLt beside it).

    Returns {"folder", "links": {name: target}, "library_dirs": [...]} ; raises VolctransError if no cuBLAS is
    installed. `library_dirs` (the real cuBLAS folder) belong on LD_LIBRARY_PATH after the shim folder, so that
    libcublas finds its own dependencies whatever $ORIGIN resolves to.
    """
    wanted = wanted or cublas_wanted(ct2_library()) or "libcublas.so.12"
    installed = find_cublas()
    if not installed:
        raise VolctransError(f"no cuBLAS library found (searched sys.path nvidia/*/lib, CUDA_HOME, /usr/local/cuda*, "
                             f"ldconfig) to link {wanted} to")
    target = max(installed, key=lambda path: (_major(path), str(path)))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    links = {wanted: target}
    for lt in sorted(target.parent.glob("libcublasLt.so.*")):  # libcublas needs its own cublasLt
        links[lt.name] = lt.resolve()
        links[f"libcublasLt.so.{wanted.rsplit('.', 1)[1]}"] = lt.resolve()
    for name, destination in links.items():
        link = folder / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(destination)
    return {"folder": str(folder.resolve()), "links": {k: str(v) for k, v in links.items()},
            "library_dirs": [str(target.parent)]}


def _safe(call, *args):
    try:
        return call(*args)
    except Exception as error:  # a CPU-only build or a machine without a driver raises here
        return f"unavailable: {str(error).splitlines()[0] if str(error) else type(error).__name__}"


def _compute_types(device: str) -> list[str] | str:
    import ctranslate2

    supported = _safe(ctranslate2.get_supported_compute_types, device)
    return sorted(supported) if isinstance(supported, (set, list, tuple)) else supported


def engine_info() -> dict:
    """What `volctrans engine-info` prints: build, library, cuBLAS, devices and supported compute types."""
    import ctranslate2

    library = ct2_library()
    wanted = cublas_wanted(library)
    info = {
        "ctranslate2": ctranslate2.__version__,
        "package": str(ct2_package_dir()),
        "library": str(library) if library else None,
        "build": ("CUDA build, loads " + wanted + " at run time") if wanted else "no cuBLAS reference (CPU-only build)",
        "cuda_devices": _safe(ctranslate2.get_cuda_device_count),
        "compute_types": {"cpu": _compute_types("cpu")},
        "ld_library_path": os.environ.get("LD_LIBRARY_PATH", ""),
    }
    devices = info["cuda_devices"]
    if isinstance(devices, int) and devices > 0:
        info["compute_types"]["cuda"] = _compute_types("cuda")
    else:
        info["compute_types"]["cuda"] = "no CUDA device visible to CTranslate2"
    if wanted:
        info["cublas"] = {"wanted": wanted, **probe_library(wanted),
                          "installed": [str(path) for path in find_cublas()]}
    return info


def cuda_devices() -> int:
    """CUDA devices CTranslate2 sees (0 for a CPU-only build or a machine without a driver)."""
    import ctranslate2

    count = _safe(ctranslate2.get_cuda_device_count)
    return count if isinstance(count, int) else 0


def check_cuda(device: str = "cuda") -> None:
    """Raise one clear VolctransError when CTranslate2 could not run on the GPU: no CUDA device visible to it, or
    the cuBLAS it loads at run time missing (or lacking the functions it resolves).

    `device` "auto" checks only when a GPU is visible (CTranslate2 would then pick it); "cpu" never checks."""
    if device == "cpu":
        return
    devices = cuda_devices()
    if device == "auto" and devices == 0:
        return
    import ctranslate2

    wanted = cublas_wanted(ct2_library())
    probe = probe_library(wanted) if wanted else {"loadable": True, "missing": []}
    cublas_ok = probe["loadable"] and not probe["missing"]
    if devices == 0:
        reason = _compute_types("cuda")
        reason = reason.removeprefix("unavailable: ") if isinstance(reason, str) else "0 devices"
        raise VolctransError(f"device cuda: CTranslate2 {ctranslate2.__version__} sees no CUDA device ({reason})"
                             + ("" if cublas_ok else f"; it would also need {wanted}, which cannot be loaded"))
    if cublas_ok:
        return
    others = sorted({path.name for path in find_cublas()})
    why = probe.get("error") or f"{probe['file']} lacks {', '.join(probe['missing'])}"
    if others and probe.get("error"):
        fix = (f"installed: {', '.join(others)}; `eval \"$(python -m serving.engine shim DIR)\"` links {wanted} to it in "
               f"DIR and puts DIR on LD_LIBRARY_PATH (before the process starts)")
    else:
        fix = f"install the cuBLAS it was built for, or build CTranslate2 for your CUDA ({BUILD_SCRIPT})"
    raise VolctransError(f"CTranslate2 {ctranslate2.__version__} needs {wanted} for the GPU and cannot use it ({why}); "
                         + fix)


def main(argv: list[str] | None = None) -> int:
    """`python -m serving.engine shim DIR`: write the shim and print the `export LD_LIBRARY_PATH=...` line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2 or argv[0] != "shim":
        print("usage: python -m serving.engine shim DIR", file=sys.stderr)
        return 2
    try:
        shim = make_cublas_shim(argv[1])
    except VolctransError as error:
        print(f"serving.engine: error: {error}", file=sys.stderr)
        return 1
    path = ":".join([shim["folder"], *shim["library_dirs"], *filter(None, [os.environ.get("LD_LIBRARY_PATH")])])
    print(f"export LD_LIBRARY_PATH={shlex.quote(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
