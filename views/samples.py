"""One renderer per kind of sample, so the Train dashboard (and any page) shows a run's samples by their kind."""

import json

import streamlit as st

from gan_core.samples import SampleKind


def show_sample(kind: SampleKind, data: bytes, caption: str) -> None:
    """Draw one saved preview (the bytes of its file) as its kind is meant to be seen."""
    if kind.is_image:
        st.image(data, caption=caption, width="stretch", output_format="PNG")
        return
    st.caption(caption)
    text = data.decode("utf-8", errors="replace")
    if kind.suffix == ".json":
        try:
            st.dataframe(json.loads(text), hide_index=True)
        except ValueError:  # a file still being written by an older worker: show it as text
            st.code(text, language=None)
        return
    st.code(text or "(no sequences yet)", language=None)
