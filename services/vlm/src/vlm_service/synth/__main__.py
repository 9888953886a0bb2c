"""CLI: python -m vlm_service.synth --layout debit_credit|random --out x.pdf [--seed N] [--scan|--png] [--truth x.json]

`--layout random`: a statement of the random-layout generator (synth/random_layout.py) for the seed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import LAYOUTS, make_statement, random_layout, render_pdf, scan_images, scan_pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vlm_service.synth", description=__doc__)
    parser.add_argument("--layout", choices=[*sorted(LAYOUTS), "random"], default="debit_credit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--transactions", type=int, default=None, help="number of transactions")
    parser.add_argument("--out", required=True, help="output file (.pdf, or .png with --png)")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--scan", action="store_true", help="scanned PDF without a text layer")
    kind.add_argument("--png", action="store_true", help="first page as a scanned PNG image")
    parser.add_argument("--truth", help="write the ground truth JSON here")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.layout == "random":
        rst = random_layout.make(args.seed)
        pdf, truth, scanned = rst.pdf(), rst.truth(), (lambda: random_layout.scan_pdf(rst.pdf(), args.seed))
        what = f"random layout {args.seed}: {', '.join(rst.features)}; {len(rst.rows)} transactions"
    else:
        stmt = make_statement(args.layout, args.seed, args.transactions)
        pdf, truth = render_pdf(stmt), stmt.truth()
        scanned = (lambda: scan_pdf(pdf, args.seed))
        what = f"{stmt.layout}, {len(stmt.transactions)} transactions"
    if args.png:
        scan_images(pdf, args.seed)[0].save(out, format="PNG")
    else:
        out.write_bytes(scanned() if args.scan else pdf)
    if args.truth:
        Path(args.truth).write_text(json.dumps(truth, indent=2))
    sys.stderr.write(f"wrote {out} ({what})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
