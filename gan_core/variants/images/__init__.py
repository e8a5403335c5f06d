"""Noise-to-image variants: a generator draws pictures from a latent vector (and a label or codes)."""
