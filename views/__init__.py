"""Streamlit pieces several pages share: cached model loading and one renderer per kind of sample."""
