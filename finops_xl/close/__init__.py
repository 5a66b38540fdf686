"""Month-end close: accruals and true-ups, prepaid commitment amortization, invoice reconciliation,
variance against budget, and the journal entries that post them (one model: ``journal``)."""
