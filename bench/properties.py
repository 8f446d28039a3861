"""Hypothesis at scale: the property tests of the chat commands and of the import, with many
more generated examples than CI runs.

    python -m bench.properties [--commands 10000] [--imports 1000] [--postgres]

Runs tests/test_command_properties.py (every generated input answered, no apology, nothing
changed without an allowed command) with `--commands` inputs, and
tests/test_import_properties.py (a file with any malformed row writes nothing) with
`--imports` generated files (1 to 10 malformed rows each), on SQLite (and on PostgreSQL with
`--postgres` when DONDOC_TEST_POSTGRES_URL is set), and prints each run's time and result.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

RUNS = {
    "commands": "tests/test_command_properties.py::"
    "test_every_input_is_answered_and_changes_only_what_it_may",
    "imports": "tests/test_import_properties.py::test_malformed_rows_never_import_partly",
}


def run(name: str, examples: int, backend: str) -> bool:
    started = time.monotonic()
    pytest = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*pytest, RUNS[name], "-k", backend],
        env={**os.environ, "DONDOC_HYPOTHESIS_EXAMPLES": str(examples)},
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    lines = [line for line in result.stdout.splitlines() if "generated" in line or "files" in line]
    verdict = "passed" if result.returncode == 0 else "FAILED"
    print(f"{name} on {backend}: {examples} examples, {seconds:.0f} s, {verdict}")
    for line in lines:
        print(f"  {line.strip(' .')}")
    if result.returncode != 0:
        print(result.stdout[-4000:])
    return result.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.properties", description=__doc__)
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--imports", type=int, default=1_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    backends = ["sqlite", *(["postgresql"] if args.postgres else [])]
    ok = True
    for backend in backends:
        ok &= run("commands", args.commands, backend)
        ok &= run("imports", args.imports, backend)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
