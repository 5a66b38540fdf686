"""The monthly leader pack: a report in plain financial terms for finance and for each owner, and tag
governance.

Modules:

- ``governance`` — tag governance: untagged and unallocatable spend before any policy spread,
  tag-key compliance, top untagged resources, allocation coverage by how cost was allocated.
- ``bridge``     — the month's change by driver (usage, price and rates, new and retired
  resources, commitments), an exact partition of the change.
- ``data``       — everything a report shows, gathered as SQL over ``CostStore.reader()``.
- ``charts``     — Vega-Lite charts (altair) rendered to SVG offline (vl-convert).
- ``html``       — the layout: one self-contained HTML page per section.
- ``pdf``        — the HTML printed to PDF by headless Chromium.
"""


class ReportError(ValueError):
    """A report cannot be made from what the user gave (one line, with the fix)."""
