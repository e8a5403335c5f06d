"""Sequence variants: a generator writes sequences of discrete tokens (ids or characters); its sample is text."""
