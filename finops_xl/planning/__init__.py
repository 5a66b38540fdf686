"""Planning: trend and driver-based forecasts, backtests, budgets, unit economics and GPU/LLM cost
models."""
