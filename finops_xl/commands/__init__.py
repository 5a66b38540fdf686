"""The finops-xl commands, one module each: a parser and a thin adapter over a capability."""
