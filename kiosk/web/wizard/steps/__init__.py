"""Per-step handlers: each step module offers view(reg, readonly) and submit(reg)."""
