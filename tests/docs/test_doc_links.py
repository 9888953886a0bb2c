"""Every Markdown file in the repository links only to files a clone has: relative links
resolve inside the repository, and nothing points at the workspace outside it (`../shared`)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
OUTSIDE = re.compile(r"\.\./shared|/work/shared|/work/main")
# A web address other than loopback or a placeholder service name: the docs say it in their own words.
WEB = re.compile(r"https?://(?!127\.0\.0\.1|localhost|\[::1\]|[a-z0-9-]+(?::\d+)?(?:[/\s`\"]|$))[^\s)`\"]+")


def markdown_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.md"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / p for p in out if (ROOT / p).exists()]


def test_there_are_docs_to_check():
    names = {p.relative_to(ROOT).as_posix() for p in markdown_files()}
    assert {"README.md", "docs/ARCHITECTURE.md", "docs/CONVENTIONS.md", "docs/GATEWAY_API.md"} <= names


def test_no_doc_points_outside_the_repository():
    bad = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in markdown_files()
           for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert bad == []


def test_no_doc_links_to_the_web():
    """Docs explain themselves in a clone: no address on the web (scripts may still name the
    download locations they install from)."""
    bad = [f"{p.relative_to(ROOT)}:{n}: {m}" for p in markdown_files()
           for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           for m in WEB.findall(line)]
    assert bad == []


def test_relative_links_resolve_inside_the_repository():
    broken = []
    for doc in markdown_files():
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a URL with a scheme, or an anchor in the same file
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []
