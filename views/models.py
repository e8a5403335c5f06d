"""One cache of loaded generators for every page: a model opened on Home is ready on its own page."""

import streamlit as st

from gan_core.app.models import load_model


@st.cache_resource(show_spinner="Loading the generator…", max_entries=16)
def cached_model(path: str, modified: float):
    """The generator at `path`; `modified` (the file's time) makes a replaced file load afresh."""
    return load_model(path, modified)
