"""The README close section's Python examples run as written (each block's asserts hold).

The numbers in them are worked by hand in the README beside each block (rates, days, the
published capitalization example), not read from finops-xl."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def close_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Month-end close:")
    end = text.index("\n### ", start + 1)
    blocks = re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)
    return [re.sub(r"^  ", "", b, flags=re.M) for b in blocks]  # the blocks sit in list items


def test_the_close_section_has_an_example_of_each_treatment():
    names = "\n".join(close_blocks())
    for used in ("reversal()", "TrueUpLine", "am.schedule", "translate_entries", "amortization_schedule"):
        assert used in names


@pytest.mark.parametrize("block", close_blocks(), ids=lambda b: b.splitlines()[-1][:40])
def test_close_example_runs(block):
    exec(compile(block, str(README), "exec"), {})
