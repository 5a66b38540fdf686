"""The command modules of `finops-xl`: each exposes ``register(sub, store_opt)``."""
