"""Command modules of ``finops-xl``: each exposes ``register(sub, store_opt)``, which adds its
subparser and sets its handler (``set_defaults(run=...)``)."""
