#!/usr/bin/env python3
"""Differential check: kasir-shared's parsers against reference libraries.

Feeds generated and hand-picked inputs to `kasir-parse` (kasir-shared's
verdicts) and to the references, and exits non-zero on any difference that
no entry of allowlist.toml explains, or on an allow-list entry that explains
nothing (so the list stays the reviewed truth). Each side's verdict is a
short summary in one vocabulary ("accept +6281234567890 mobile",
"refuse | phone.length"); they differ when the parts before ` | ` differ. Each
module (cards, phones, emails, niks, qris) has `compare(kasir)`, returning
`(parser, input, kasir summary, reference summary)` for every input.

    python3 tests/differential/check.py --kasir-parse target/debug/kasir-parse
    python3 tests/differential/check.py --check-references   # are they installed?

References: see README.md ("Checked against reference libraries").
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(HERE))

# The pinned versions; .ci/run installs exactly these.
PYPI = {
    "phonenumbers": "9.0.43",
    "email-validator": "2.4.0",
    "idna": "3.13",  # email-validator's IDNA: it decides which xn-- labels are valid.
    "python-stdnum": "2.2",
    "qriskit": "0.2.0",
}
NPM = {"card-validator": "10.0.4", "credit-card-type": "10.3.0"}


@dataclass(frozen=True)
class Difference:
    parser: str
    input: object
    kasir: str
    reference: str


class Kasir:
    """Runs inputs through the kasir-parse binary, one process per batch."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def __call__(self, parser: str, inputs: list) -> list[dict]:
        lines = "".join(json.dumps({"parser": parser, "input": i}) + "\n" for i in inputs)
        done = subprocess.run(
            [self.binary], input=lines, capture_output=True, text=True, check=True
        )
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        if len(answers) != len(inputs):
            raise SystemExit(f"kasir-parse answered {len(answers)} of {len(inputs)} inputs")
        for answer in answers:
            if answer.get("code") == "kasir-parse.bad_request":
                raise SystemExit(f"kasir-parse could not read a request: {answer}")
        return answers


def installed_versions() -> tuple[dict[str, str], list[str]]:
    """The references' installed versions, and what is missing or not as pinned."""
    from importlib import metadata

    found, problems = {}, []
    for name, pinned in PYPI.items():
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}=={pinned} (PyPI) is not installed")
            continue
        if found[name] != pinned:
            problems.append(f"{name} is {found[name]}, pinned {pinned}")
    if shutil.which("node") is None:
        problems.append("node (Node.js) is not on PATH")
    for name, pinned in NPM.items():
        manifest = HERE / "node_modules" / name / "package.json"
        if not manifest.exists():
            problems.append(f"{name}@{pinned} (npm) is missing: npm ci --prefix tests/differential")
            continue
        found[name] = json.loads(manifest.read_text())["version"]
        if found[name] != pinned:
            problems.append(f"{name} is {found[name]}, pinned {pinned}")
    return found, problems


def load_allowlist(path: Path) -> list[dict]:
    entries = tomllib.loads(path.read_text())["allow"]
    for e in entries:
        missing = {"parser", "kasir", "reference", "reason"} - e.keys()
        if missing or not e["reason"].strip():
            raise SystemExit(f"allow-list entry without {sorted(missing) or 'reason'}: {e}")
        e["hits"] = 0
    return entries


def verdict(summary: str) -> str:
    """The part of a summary that is compared: what follows ` | ` is detail
    (an error code, the reference's issues), shown and matched but not compared."""
    return summary.split(" | ")[0]


def allowed(d: Difference, entries: list[dict]) -> dict | None:
    """The first entry whose regexes fully match the difference."""
    text = d.input if isinstance(d.input, str) else json.dumps(d.input, sort_keys=True)
    for e in entries:
        if (
            e["parser"] == d.parser
            and re.fullmatch(e.get("input", ".*"), text, re.DOTALL)
            and re.fullmatch(e["kasir"], d.kasir)
            and re.fullmatch(e["reference"], d.reference)
        ):
            return e
    return None


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--kasir-parse", help="path to the built kasir-parse binary")
    args.add_argument("--check-references", action="store_true", help="only check the installs")
    args.add_argument("--allowlist", default=str(HERE / "allowlist.toml"), help="the reviewed list")
    args.add_argument("--show-allowed", action="store_true", help="list allowed differences too")
    opts = args.parse_args()

    versions, problems = installed_versions()
    if problems:
        print("reference libraries missing or not as pinned:\n  " + "\n  ".join(problems))
        return 2
    if opts.check_references:
        return 0
    if not opts.kasir_parse:
        args.error("--kasir-parse is required")

    import cards, emails, niks, phones, qris  # noqa: E401 (after the install check)

    started = time.monotonic()
    kasir = Kasir(opts.kasir_parse)
    entries = load_allowlist(Path(opts.allowlist))
    print("references: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    unexplained: list[Difference] = []
    for module in (cards, phones, emails, niks, qris):
        compared = module.compare(kasir)
        differences = [Difference(*c) for c in compared if verdict(c[2]) != verdict(c[3])]
        explained = 0
        for d in differences:
            entry = allowed(d, entries)
            if entry is None:
                unexplained.append(d)
            else:
                entry["hits"] += 1
                explained += 1
                if opts.show_allowed:
                    print(f"  allowed [{entry['reason'][:40]}…] {d}")
        print(
            f"{module.__name__}: {len(compared)} inputs, {len(differences)} differences, "
            f"{explained} allow-listed"
        )
    stale = [e for e in entries if e["hits"] == 0]
    for d in unexplained:
        print(f"DIFFERENCE {d.parser} {json.dumps(d.input)}\n  kasir:     {d.kasir}\n  reference: {d.reference}")
    for e in stale:
        print(f"STALE allow-list entry (explains no difference): {e['parser']}: {e['reason']}")
    print(f"{len(unexplained)} unexplained differences, {len(stale)} stale allow-list entries "
          f"({time.monotonic() - started:.1f} s)")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main())
