"""Optimization: idle, orphaned and oversized resources found in billing and utilization data,
priced per owner (``detectors``, ``rightsizing``), and a ledger of what was done and really saved
(``ledger``)."""
