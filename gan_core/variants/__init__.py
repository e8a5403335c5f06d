"""One module per variant; each defines `SPEC` (a `VariantSpec`) and is found by the registry."""
