"""The built-in actions, one module per family: `data` (things) and `flow` (return data,
terminate, custom events)."""
