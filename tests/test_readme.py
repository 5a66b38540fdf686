"""The README's command-line examples run, in order, and print what the README shows.

Lines of expected output with an elision (``...`` or ``…``) or a timing are not compared.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
from pathlib import Path

from finops_xl.cli import main
from tests.conftest import DATA, SPEC_EXAMPLES

README = Path(__file__).resolve().parents[1] / "README.md"


def console_examples() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every ``$ finops-xl`` line in console blocks."""
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("$ "):
                examples.append((line[2:], []))
            elif examples and line:
                examples[-1][1].append(line)
    return examples


def test_readme_has_examples_of_every_command():
    commands = {shlex.split(c)[1] for c, _ in console_examples()}
    assert commands >= {"sample", "ingest", "validate", "summary", "convert"}


def test_readme_console_examples_run_as_shown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(
        SPEC_EXAMPLES / "commitment_discount_scenarios" / "commitment_discount_purchase_scenario_2.csv",
        tmp_path / "commitment_discount_purchase_scenario_2.csv",
    )
    shutil.copytree(DATA / "native", tmp_path / "native",
                    ignore=shutil.ignore_patterns("*.py"))  # the native-export examples
    for command, expected in console_examples():
        argv = shlex.split(command)
        assert argv[0] == "finops-xl"
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv[1:])
        printed = (out.getvalue() + err.getvalue()).replace(f"{tmp_path}/", "")  # paths as typed
        fails = any("problems found" in line for line in expected)
        assert rc == (1 if fails else 0), f"{command}\n{printed}"
        for line in expected:
            if "..." in line or "…" in line or re.search(r"\d s \(load", line):
                continue
            assert line in printed, f"{command}: {line!r} not in output:\n{printed}"


def _text_block_after(marker: str) -> list[str]:
    """The lines of the first ```text block after ``marker`` in the README."""
    text = README.read_text()
    start = text.index("```text\n", text.index(marker)) + len("```text\n")
    return text[start:text.index("```", start)].splitlines()


def _demo_block() -> list[str]:
    text = README.read_text()
    start = text.index("```text\n", text.index("The demo ends with")) + len("```text\n")
    return text[start:text.index("```", start)].splitlines()


def test_readme_demo_output_is_what_the_demo_prints(tmp_path, monkeypatch):
    """The README's demo figures come from running the demo, as the README says to."""
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["demo"]) == 0
    printed = out.getvalue().replace(str(tmp_path), "/…")  # the README elides the folder
    expected = [line for line in _demo_block() if line.strip() and line.strip() != "..."]
    assert len(expected) > 15
    for line in expected:
        timing = re.search(r" in \d+(\.\d+)? s\b", line)  # a timing varies: the text around it does not
        for part in ([line[:timing.start()], line[timing.end():]] if timing else [line]):
            assert part in printed, f"{part!r} not in the demo's output:\n{printed}"
    # the commitments example runs on the demo's store
    block = _text_block_after("finops-xl commitments --store finops-demo/finops-store --month 2025-06")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["commitments", "--store", "finops-demo/finops-store", "--month", "2025-06"]) == 0
    shown = [line for line in block if line.strip() and line.strip() != "..."]
    assert len(shown) >= 6
    for line in shown:
        assert line in out.getvalue(), f"{line!r} not in `finops-xl commitments`:\n{out.getvalue()}"
    # the demo writes and uses the sample inputs the README points to
    inputs = tmp_path / "finops-demo" / "inputs"
    assert {p.name for p in inputs.iterdir()} >= {"ledger-map.csv", "budget.csv", "drivers.csv", "unit-costs.csv",
                                                  "demo-rules.yaml"}
    assert (tmp_path / "finops-demo" / "budget.xlsx").is_file()
