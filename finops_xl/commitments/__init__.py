"""Commitments: portfolio KPIs, purchase recommendations and purchase valuation."""
