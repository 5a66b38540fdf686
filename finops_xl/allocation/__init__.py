"""Allocation: every cost assigned to an owner by explicit rules, tying to the source exactly.

``rules`` (what the analyst writes), ``taxonomy`` (canonical dimensions from messy tags),
``hierarchy`` (sub-account mapping), ``split`` (largest-remainder splits), ``engine`` (the run, as
SQL in the store), ``kubernetes`` (OpenCost namespace costs), ``showback`` (statements and coverage).
"""
