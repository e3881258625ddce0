"""insights' models, one module per area."""
