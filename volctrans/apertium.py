"""Apertium (rule-based MT from Debian's `apertium` + `apertium-eng-spa`) as a side-by-side baseline.

Apertium treats a newline as a space and may merge lines, so segments are sent separated by blank lines
(paragraph breaks it keeps) and the output is split on them; if the counts disagree, each segment is translated
on its own (slow but aligned). Used when the `apertium` program and the language pair are installed — system-wide
(`apt-get install apertium apertium-eng-spa`) or, without root, unpacked by `install_local` into a folder named by
the environment variable VOLCTRANS_APERTIUM_ROOT (the Debian packages are downloaded with `apt-get download`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from volctrans.errors import VolctransError
from volctrans.io import read_lines, write_lines

LOCAL_ROOT_ENV = "VOLCTRANS_APERTIUM_ROOT"
# What a language pair needs at run time besides the usual Debian base system (libxml2, libicu, libstdc++).
_RUNTIME_PACKAGES = ["apertium", "apertium-lex-tools", "lttoolbox", "libapertium3", "liblttoolbox3"]

# Our language codes → Apertium's (ISO 639-3) names.
_ISO3 = {"en": "eng", "es": "spa", "ca": "cat", "fr": "fra", "pt": "por", "it": "ita", "de": "deu", "eu": "eus",
         "gl": "glg", "ro": "ron", "nl": "nld", "sv": "swe", "da": "dan", "nb": "nob", "oc": "oci"}


def _command() -> tuple[list[str], dict[str, str] | None]:
    """The apertium program and the environment to run it in: a local unpacked tree when VOLCTRANS_APERTIUM_ROOT
    names one, else the system's."""
    root = os.environ.get(LOCAL_ROOT_ENV)
    if root and (Path(root) / "usr/bin/apertium").is_file():
        root_path = Path(root).resolve()
        env = dict(os.environ)
        env["APERTIUM_PATH"] = str(root_path / "usr/bin")
        env["APERTIUM_DATADIR"] = str(root_path / "usr/share/apertium")
        env["PATH"] = f"{root_path / 'usr/bin'}:{env.get('PATH', '')}"
        libraries = [str(p) for p in (root_path / "usr/lib").glob("*-linux-gnu")] + [str(root_path / "usr/lib")]
        env["LD_LIBRARY_PATH"] = ":".join(libraries + [env.get("LD_LIBRARY_PATH", "")])
        return [str(root_path / "usr/bin/apertium")], env
    program = shutil.which("apertium")
    return ([program], None) if program else ([], None)


def pair_packages(source_lang: str, target_lang: str) -> list[str]:
    """Debian's package holding the pair's data (the two directions share one package, named in sorted order)."""
    first, second = sorted((_ISO3.get(source_lang, source_lang), _ISO3.get(target_lang, target_lang)))
    return [f"apertium-{first}-{second}"]


def install_local(root: str | Path, source_lang: str, target_lang: str) -> Path:
    """Unpack Apertium and the pair's data into root without root privileges (`apt-get download` + `dpkg -x`),
    and point the pair's mode files at that folder. Set VOLCTRANS_APERTIUM_ROOT=root to use it."""
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise VolctransError(f"'{tool}' not found: a local Apertium needs Debian/Ubuntu")
    root = Path(root).resolve()
    debs = root / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for package in _RUNTIME_PACKAGES + pair_packages(source_lang, target_lang):
        if not list(debs.glob(f"{package}_*.deb")):
            result = subprocess.run(["apt-get", "download", "-q", package], cwd=debs, capture_output=True, text=True)
            if result.returncode != 0 or not list(debs.glob(f"{package}_*.deb")):
                message = (result.stderr.strip().splitlines() or ["no such package"])[-1]
                raise VolctransError(f"apt-get download {package} failed: {message}")
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    repoint_modes(root)
    return root


def repoint_modes(root: Path) -> None:
    """Mode files are shell pipelines with absolute /usr/share/apertium paths: point them at the unpacked data."""
    for mode in (root / "usr/share/apertium/modes").glob("*.mode"):
        text = mode.read_text(encoding="utf-8")
        mode.write_text(text.replace("'/usr/share/apertium/", f"'{root}/usr/share/apertium/"), encoding="utf-8")


def apertium_mode(source_lang: str, target_lang: str) -> str | None:
    """The installed Apertium mode for the pair, or None when Apertium or the pair is missing."""
    command, env = _command()
    if not command:
        return None
    mode = f"{_ISO3.get(source_lang, source_lang)}-{_ISO3.get(target_lang, target_lang)}"
    result = subprocess.run([*command, "-l"], capture_output=True, text=True, env=env)
    return mode if mode in result.stdout.split() else None


def _run(mode: str, text: str) -> str:
    command, env = _command()
    result = subprocess.run([*command, "-u", mode], input=text, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise VolctransError(f"apertium {mode} failed: {result.stderr.strip()[:200]}")
    return result.stdout


def translate(lines: list[str], mode: str) -> list[str]:
    """Translate segments with Apertium (-u: no unknown-word marks), one output per input, order kept."""
    segments = [" ".join(line.split()) for line in lines]
    todo = [i for i, segment in enumerate(segments) if segment]
    output = _run(mode, "\n\n".join(segments[i] for i in todo) + "\n")
    pieces = [piece.strip() for piece in output.strip("\n").split("\n\n")]
    if len(pieces) != len(todo):  # Apertium merged or split something: fall back to one call per segment
        pieces = [_run(mode, segments[i] + "\n").strip() for i in todo]
    translations = [""] * len(lines)
    for index, piece in zip(todo, pieces):
        translations[index] = " ".join(piece.split())
    return translations


def find_or_install(source_lang: str, target_lang: str, install_to: str | Path | None = None) -> str:
    """The pair's mode: the system's Apertium, else a local tree under install_to (unpacked on first use)."""
    mode = apertium_mode(source_lang, target_lang)
    if mode is None and install_to is not None:
        os.environ[LOCAL_ROOT_ENV] = str(install_to)
        if not (Path(install_to) / "usr/bin/apertium").is_file():
            install_local(install_to, source_lang, target_lang)
        mode = apertium_mode(source_lang, target_lang)
    if mode is None:
        raise VolctransError(f"apertium: {source_lang}-{target_lang} not available (apt-get install apertium "
                             f"{' '.join(pair_packages(source_lang, target_lang))}, or --install-to DIR)")
    return mode


def translate_file(source_lang: str, target_lang: str, source_path: str, out_path: str,
                   install_to: str | Path | None = None) -> int:
    """Translate a file of segments, one per line; the output is written whole or not at all."""
    lines = read_lines(source_path, allow_empty=True)  # bad input is reported before any install
    return write_lines(out_path, translate(lines, find_or_install(source_lang, target_lang, install_to)))
