"""CLI commands, one module each: ``register(sub, store_opt)`` adds the subparser."""
