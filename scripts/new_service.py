#!/usr/bin/env python3
"""Write a working model-service skeleton: `make new-service NAME=<name> PORT=<port> TASK=<task>`.

    python3 scripts/new_service.py --name document-qa --port 8002 --task document-qa \
        [--resource documents] [--env-prefix DOCQA] [--title "Document QA"] [--root DIR] [--force]

Writes, from scripts/service_template/:
  services/<name>/            src/<package>/ (kserve.Model on kit-kserve, settings, __main__), tests/
                              (a passing unit test and a real-process HTTP test), requirements.txt,
                              pyproject.toml, Dockerfile, Dockerfile.gpu, README.md, .env.example,
                              service.conf (how `make run` starts it; TASK and RESOURCE make the
                              gateway route that scripts/local_routes.py hands to the gateway)
  scripts/start_<name>.sh                            the service alone, in the foreground
  operators/platform-operator/examples/<name>.yaml   an AIService
  charts/model-service/presets/<name>.yaml           the chart preset
  charts/ai-platform/{Chart.yaml,values.yaml,values.schema.json}   the umbrella entry (disabled)
  charts/model-service/values.schema.json           the preset enum

Existing files are kept (and listed) unless --force; the service folder must not exist yet
unless --force. Prints what it wrote and the next steps.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "service_template"
TASKS = ("transcription", "statement-extraction", "document-qa", "translation", "custom")
NAME_RE = re.compile(r"^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$")
RESOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,30}$")
# ports that are already taken by the platform itself (ARCHITECTURE.md)
RESERVED_PORTS = {8080: "web-frontend", 8090: "gateway"}


class ScaffoldError(Exception):
    """A bad argument or a conflict; the message says what to change."""


def variables(name: str, port: int, task: str, resource: str | None, prefix: str | None,
              title: str | None) -> dict[str, str]:
    """The template's @@placeholders@@, checked."""
    if not NAME_RE.match(name):
        raise ScaffoldError(f"NAME {name!r}: lower-case letters, digits and '-', 2-30 characters, starting with a letter")
    if task not in TASKS:
        raise ScaffoldError(f"TASK {task!r}: one of {', '.join(TASKS)}")
    if not 1024 <= port <= 65535 - 1000:
        raise ScaffoldError(f"PORT {port}: between 1024 and 64535 (gRPC listens on PORT + 1000)")
    if port in RESERVED_PORTS:
        raise ScaffoldError(f"PORT {port} is the {RESERVED_PORTS[port]}'s")
    resource = resource or name
    if not RESOURCE_RE.match(resource):
        raise ScaffoldError(f"RESOURCE {resource!r}: lower-case letters, digits and '-'")
    prefix = prefix or name.upper().replace("-", "_")
    if not PREFIX_RE.match(prefix):
        raise ScaffoldError(f"env prefix {prefix!r}: upper-case letters, digits and '_'")
    words = name.replace("-", " ").split()
    return {
        "name": name,
        "pkg": name.replace("-", "_") + "_service",
        "project": f"{name}-service",
        "class": "".join(w.capitalize() for w in words) + "Model",
        "title": title or " ".join(w.capitalize() for w in words),
        "prefix": prefix,
        "port": str(port),
        "grpc_port": str(port + 1000),
        "task": task,
        "resource": resource,
    }


def render(text: str, vars_: dict[str, str]) -> str:
    out = re.sub(r"@@([a-z_]+)@@", lambda m: vars_[m.group(1)], text)
    left = re.findall(r"@@\w*@@", out)
    if left:
        raise ScaffoldError(f"template placeholders without a value: {sorted(set(left))}")
    return out


def service_files(vars_: dict[str, str]) -> dict[str, str]:
    """Relative path under services/<name>/ -> content."""
    files = {}
    for src in sorted(TEMPLATE.rglob("*.tmpl")):
        rel = src.relative_to(TEMPLATE).as_posix()[: -len(".tmpl")]
        if rel in ("preset.yaml", "aiservice.yaml"):
            continue
        rel = rel.replace("__pkg__", vars_["pkg"])
        if rel == "env.example":
            rel = ".env.example"
        files[rel] = render(src.read_text(), vars_)
    return files


def umbrella_chart(text: str, name: str) -> str:
    """charts/ai-platform/Chart.yaml with a model-service dependency aliased `name`."""
    if re.search(rf"^\s+alias: {re.escape(name)}\s*$", text, re.M):
        return text
    block = (f"  - name: model-service\n    alias: {name}\n    version: 0.1.0\n"
             f"    repository: file://../model-service\n    condition: {name}.enabled\n")
    return text.rstrip("\n") + "\n" + block


def umbrella_values(text: str, name: str) -> str:
    """charts/ai-platform/values.yaml with `name: {enabled: false, preset: name}` after the services."""
    if re.search(rf"^{re.escape(name)}:\s*$", text, re.M):
        return text
    block = f"{name}:\n  enabled: false\n  preset: {name}\n"
    marker = re.search(r"^\n(?=# The platform's one entry)", text, re.M)
    if marker:
        return text[: marker.start()] + block + text[marker.start():]
    return text.rstrip("\n") + "\n" + block


def umbrella_schema(text: str, name: str) -> str:
    """charts/ai-platform/values.schema.json with a component entry `name` (a line inserted
    after the last one, so the file keeps its hand-made layout)."""
    if name in json.loads(text)["properties"]:
        return text
    ref = '{"$ref": "#/definitions/component"}'
    lines = text.splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.rstrip().rstrip(",").endswith(ref))
    indent = lines[last][: len(lines[last]) - len(lines[last].lstrip())]
    if not lines[last].rstrip().endswith(","):
        lines[last] = lines[last].rstrip() + ",\n"
    lines.insert(last + 1, f'{indent}"{name}": {ref},\n')
    out = "".join(lines)
    json.loads(out)  # still valid JSON
    return out


def preset_schema(text: str, name: str) -> str:
    doc = json.loads(text)
    enum = doc["properties"]["preset"]["enum"]
    if name not in enum:
        doc["properties"]["preset"]["enum"] = ["", *sorted({*enum, name} - {""})]
    return json.dumps(doc, indent=2) + "\n"


def scaffold(root: Path, vars_: dict[str, str], force: bool = False) -> tuple[list[str], list[str]]:
    """Write everything; returns (written, kept) relative paths."""
    name = vars_["name"]
    service_dir = root / "services" / name
    if service_dir.exists() and not force:
        raise ScaffoldError(f"services/{name} exists; pick another NAME or pass --force to fill in missing files")
    for conf in (root / "services").glob("*/service.conf"):
        text = conf.read_text()
        if conf.parent.name != name and re.search(rf"^PORT={vars_['port']}\s*$", text, re.M):
            raise ScaffoldError(f"PORT {vars_['port']} is used by {conf.parent.relative_to(root)}")

    written: list[str] = []
    kept: list[str] = []

    def write(rel: str, content: str, overwrite: bool = False) -> None:
        path = root / rel
        if path.exists() and not (force or overwrite):
            kept.append(rel)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        written.append(rel)

    for rel, content in service_files(vars_).items():
        write(f"services/{name}/{rel}", content)
    write(f"scripts/start_{name}.sh", f'#!/usr/bin/env bash\n# Start {name} in the foreground (see services/*/service.conf).\n'
          f'exec "$(dirname "${{BASH_SOURCE[0]}}")/start_service.sh" {name} "$@"\n')
    if (root / f"scripts/start_{name}.sh").exists():
        (root / f"scripts/start_{name}.sh").chmod(0o755)
    write(f"operators/platform-operator/examples/{name}.yaml",
          render((TEMPLATE / "aiservice.yaml.tmpl").read_text(), vars_))
    write(f"charts/model-service/presets/{name}.yaml", render((TEMPLATE / "preset.yaml.tmpl").read_text(), vars_))

    edits = {
        "charts/ai-platform/Chart.yaml": umbrella_chart,
        "charts/ai-platform/values.yaml": umbrella_values,
        "charts/ai-platform/values.schema.json": umbrella_schema,
        "charts/model-service/values.schema.json": preset_schema,
    }
    for rel, edit in edits.items():
        path = root / rel
        if not path.exists():
            continue
        old = path.read_text()
        new = edit(old, name)
        if new != old:
            write(rel, new, overwrite=True)
    return written, kept


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", required=True, type=int)
    ap.add_argument("--task", default="custom", help=f"gateway route kind: {', '.join(TASKS)}")
    ap.add_argument("--resource", help="the gateway path segment /api/v1/<resource> (default: the name)")
    ap.add_argument("--env-prefix", help="environment variable prefix (default: NAME upper-cased)")
    ap.add_argument("--title", help="human name for READMEs (default: from NAME)")
    ap.add_argument("--root", type=Path, default=ROOT, help="repository root to write into")
    ap.add_argument("--force", action="store_true", help="fill in a service folder that exists; overwrite its files")
    args = ap.parse_args(argv)
    try:
        vars_ = variables(args.name, args.port, args.task, args.resource, args.env_prefix, args.title)
        written, kept = scaffold(args.root.resolve(), vars_, args.force)
    except ScaffoldError as exc:
        sys.stderr.write(f"new-service: {exc}\n")
        return 2
    for rel in written:
        sys.stdout.write(f"  wrote {rel}\n")
    for rel in kept:
        sys.stdout.write(f"  kept  {rel} (exists)\n")
    n = vars_["name"]
    sys.stdout.write(
        f"\nservices/{n} is ready. Next:\n"
        f"  $(bash scripts/venv.sh services/{n})/bin/python -m pytest services/{n}/tests -q\n"
        f"  make run      # starts it on :{vars_['port']}; the gateway serves POST /api/v1/{vars_['resource']}\n"
        f"  then replace load() and run() in services/{n}/src/{vars_['pkg']}/model.py\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
