"""Command line: `crds --out DIR` writes the CRDs; `render FILE...` prints a dry run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from .config import OperatorConfig
from .crd import write_crds
from .dryrun import render_documents
from .yamlio import dump_all


def _load(paths: list[str]) -> list[dict]:
    docs = []
    for path in paths:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_operator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    crds = sub.add_parser("crds", help="write the CustomResourceDefinitions")
    crds.add_argument("--out", default="crds", help="output folder (default: crds)")
    render = sub.add_parser("render", help="print what the operator would create (no cluster needed)")
    render.add_argument("files", nargs="+", metavar="FILE", help="YAML with AIService/GPUPool documents; - is stdin")
    render.add_argument("--namespace", default="default", help="namespace of resources that name none")
    args = parser.parse_args(argv)
    if args.command == "crds":
        for path in write_crds(Path(args.out)):
            sys.stdout.write(f"wrote {path}\n")
        return 0
    try:
        result = render_documents(_load(args.files), args.namespace, OperatorConfig.from_env())
    except (ValueError, KeyError, OSError, yaml.YAMLError) as exc:  # ValidationError, RouteConflict too
        sys.stderr.write(f"error: {exc}\n")
        return 1
    for note in result.notes:
        sys.stdout.write(f"# {note}\n")
    sys.stdout.write(dump_all(result.objects))
    return 0


if __name__ == "__main__":
    sys.exit(main())
