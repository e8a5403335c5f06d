"""Retrieval variants: a generator picks items (movies) for a query (a user); its sample is a ranked list."""
