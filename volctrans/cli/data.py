"""`volctrans data {libreoffice-help,gettext,noisy,import,debian-mono,recount,sample}`: build corpus directories."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from volctrans.errors import VolctransError


def _langs(value: str) -> list[str]:
    langs = [lang.strip() for lang in value.split(",") if lang.strip()]
    if not langs:
        raise argparse.ArgumentTypeError("expected a comma-separated list of language codes")
    return langs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="source", metavar="<source>", required=True)

    lo = sub.add_parser("libreoffice-help", help="en–xx pairs from Debian's libreoffice-help-* packages (MPL-2.0)")
    lo.add_argument("--langs", type=_langs, required=True, help="target languages, e.g. de,fr,es,ru,zh,ja")
    lo.add_argument("--out", type=Path, required=True, help="output corpus directory")
    lo.add_argument("--cache", type=Path, default=None, help="where .deb files are downloaded/extracted (kept for reuse)")
    lo.add_argument("--extracted", type=Path, default=None,
                    help="an already unpacked usr/share/libreoffice/help folder (skips apt-get)")
    lo.add_argument("--dev-fraction", type=float, default=0.03)
    lo.add_argument("--test-fraction", type=float, default=0.03)
    lo.add_argument("--compress", action="store_true", help="write .tsv.gz")

    gt = sub.add_parser("gettext", help="en–xx pairs from .po/.mo catalogs (files or folders)")
    gt.add_argument("paths", nargs="+", help=".po/.mo files or folders to search")
    gt.add_argument("--out", type=Path, required=True)
    gt.add_argument("--langs", type=_langs, default=None, help="keep only these languages")
    gt.add_argument("--min-pairs", type=int, default=100, help="drop languages with fewer pairs")
    gt.add_argument("--held-out", type=Path, default=None,
                    help="corpus directory whose dev/test sentences must not appear here (pairs holding one are dropped)")

    noisy = sub.add_parser("noisy", help="a corrupted copy of a corpus (misaligned / wrong-language pairs)")
    noisy.add_argument("--from", dest="corpus", type=Path, required=True)
    noisy.add_argument("--out", type=Path, required=True)
    noisy.add_argument("--name", default="noisy", help="source name of the new corpus")
    noisy.add_argument("--rate", type=float, default=0.5, help="fraction of pairs corrupted")
    noisy.add_argument("--seed", type=int, default=1)
    noisy.add_argument("--exclude", type=Path, default=None, help="corpus whose training pairs must not reappear")
    noisy.add_argument("--limit", type=int, default=None, help="at most this many pairs per language")

    imported = sub.add_parser("import", help="your own bitext → one corpus directory per source (see --list format)")
    imported.add_argument("--list", type=Path, required=True,
                          help="TSV: source pair split path (path: a TSV, or SRC_FILE,TGT_FILE)")
    imported.add_argument("--out", type=Path, required=True, help="folder that receives OUT/<source>/")
    imported.add_argument("--licence", default="as provided by the user")
    imported.add_argument("--check", action="store_true", help="only validate the list (files exist, splits, pairs)")

    mono = sub.add_parser("debian-mono", help="monolingual text (back-translation input) from Debian's manpages-<lang> "
                                              "and fortunes-<lang> packages")
    mono.add_argument("--lang", required=True, help="language code, e.g. es")
    mono.add_argument("--out", type=Path, required=True)
    mono.add_argument("--cache", type=Path, default=None, help="where .deb files are downloaded/extracted (kept for reuse)")
    mono.add_argument("--extracted", type=Path, default=None, help="an already unpacked package tree (skips apt-get)")
    mono.add_argument("--held-out", type=Path, default=None,
                      help="corpus directory whose dev/test sentences must not appear in the output")
    mono.add_argument("--limit", type=int, default=None, help="at most this many sentences")

    recount = sub.add_parser("recount", help="recount the pairs of a corpus directory whose files were rewritten "
                                             "(e.g. cleaned in place) and update its manifest")
    recount.add_argument("corpus", type=Path)
    recount.add_argument("--manifest-from", type=Path, default=None,
                         help="write CORPUS's manifest from this corpus's (name, licence), keeping only the pairs, "
                              "splits and monolingual files CORPUS holds (a stage's cleaned copy of a corpus)")

    sample = sub.add_parser("sample", help="cut a small sample (and a monolingual slice) from a corpus directory")
    sample.add_argument("--from", dest="corpus", type=Path, required=True)
    sample.add_argument("--out", type=Path, required=True)
    sample.add_argument("--langs", type=_langs, default=None)
    sample.add_argument("--train", type=int, default=3000)
    sample.add_argument("--dev", type=int, default=200)
    sample.add_argument("--test", type=int, default=300)
    sample.add_argument("--mono", type=int, default=1000)
    sample.add_argument("--seed", type=int, default=1)
    sample.add_argument("--no-compress", action="store_true")


def run(args: argparse.Namespace) -> int:
    if args.source == "libreoffice-help":
        from volctrans.data import libreoffice

        if args.extracted is not None:
            help_root = args.extracted
        else:
            cache = args.cache or Path(tempfile.mkdtemp(prefix="volctrans-lo-"))
            help_root = libreoffice.download_and_extract(["en", *args.langs], cache)
        manifest = libreoffice.build(args.langs, args.out, help_root, args.dev_fraction, args.test_fraction, args.compress)
    elif args.source == "gettext":
        from volctrans.data import gettext

        manifest = gettext.build(args.paths, args.out, args.langs, min_pairs=args.min_pairs, held_out=args.held_out)
    elif args.source == "noisy":
        from volctrans.data.noise import build_noisy

        manifest = build_noisy(args.corpus, args.out, args.name, args.rate, args.seed, args.exclude, args.limit)
    elif args.source == "import":
        from volctrans.data.imported import import_corpora, read_list

        if args.check:
            entries = read_list(args.list)
            print(f"{args.list}: ok ({len(entries)} sources: " + ", ".join(
                f"{name} [{len(pairs)} pairs]" for name, pairs in entries.items()) + ")")
            return 0
        manifests = import_corpora(args.list, args.out, args.licence)
        json.dump({"out": str(args.out), "sources": {m.name: m.pairs for m in manifests}}, sys.stdout, indent=1)
        print()
        return 0
    elif args.source == "recount":
        from volctrans.data.corpus import Manifest

        if args.manifest_from is not None:
            manifest = Manifest.load(args.manifest_from).describing(args.corpus, str(args.manifest_from))
        else:
            manifest = Manifest.load(args.corpus)
            manifest.recount(args.corpus)
        manifest.save(args.corpus)
        json.dump({"corpus": str(args.corpus), "pairs": manifest.pairs}, sys.stdout, indent=1)
        print()
        return 0
    elif args.source == "debian-mono":
        from volctrans.data import debian_mono

        root = args.extracted or debian_mono.download_and_extract(
            debian_mono.debian_packages(args.lang), args.cache or Path(tempfile.mkdtemp(prefix="volctrans-mono-")))
        manifest = debian_mono.build(args.lang, args.out, root, args.held_out, args.limit)
        json.dump({"out": str(args.out), "mono": manifest.mono, "details": manifest.details}, sys.stdout, indent=1)
        print()
        return 0
    elif args.source == "sample":
        from volctrans.data.sample import build_sample

        manifest = build_sample(args.corpus, args.out, args.train, args.dev, args.test, args.mono, args.langs,
                                args.seed, compress=not args.no_compress)
    else:  # argparse guarantees one of the above
        raise VolctransError(f"unknown data source {args.source}")
    json.dump({"out": str(args.out), "pairs": manifest.pairs}, sys.stdout, indent=1)
    print()
    return 0
