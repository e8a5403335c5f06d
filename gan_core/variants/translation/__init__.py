"""Image-to-image variants: a generator translates pictures of one domain into another."""
