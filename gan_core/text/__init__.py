"""Words about digits: the attributes measured on an image, the captions made from them, and reading a sentence.

StackGAN (`gan_core.variants.images.stackgan`) learns to draw from these captions; the text-to-image page and
the CLI read what a user typed with the same vocabulary.
"""
