"""InfoGAN codes: choose the categorical code and move the continuous codes; the image follows at once.

The codes and the pictures are one fragment, so moving a slider reruns only them (not the model list);
both pictures are cached by model and codes, and the traversal does not depend on the swept code's own
slider, so moving that one redraws only the large image.
"""

from pathlib import Path

import streamlit as st

from app_shell import run_inside_app
from gan_core.app.models import models_with_codes, sample_png, traversal_png
from gan_core.code_reading import ModelCodes, read_model_codes
from views.models import cached_model

run_inside_app()

SWEEP = tuple(-2.0 + 4.0 * step / 9 for step in range(10))


@st.cache_data(max_entries=512, show_spinner=False)
def code_picture(path: str, modified: float, _model, seed: int, category: int | None,
                 continuous: tuple[float, ...]) -> bytes:
    """One sample (a batch of one) for these codes; `path` and `modified` key the cache, not `_model`."""
    return sample_png(_model, 1, seed, columns=1, scale=12, category=category,
                      continuous=list(continuous) if continuous else None)


@st.cache_data(max_entries=64, show_spinner=False)
def traversal_picture(path: str, modified: float, _model, seed: int, code_index: int,
                      base: tuple[float, ...], row_labels: tuple[str, ...]) -> bytes:
    return traversal_png(_model, seed, code_index, SWEEP, list(base), scale=2, row_labels=list(row_labels))


@st.cache_data(max_entries=16, show_spinner="Reading what this model's codes draw (the judge reads 400 samples)…")
def code_meanings(path: str, modified: float, _model) -> ModelCodes:
    return read_model_codes(_model)


def traversal_base(continuous: list[float], code_index: int) -> tuple[float, ...]:
    """The codes the traversal holds fixed; the swept one's slider is overridden, so it is left out of the key."""
    return tuple(0.0 if index == code_index else value for index, value in enumerate(continuous))


st.title("InfoGAN latent codes")
st.write(
    "InfoGAN learns, without labels, codes that control what it draws: a categorical code that tends to "
    "pick the digit and continuous codes for features such as slant and stroke width."
)

choices = models_with_codes()
if not choices:
    st.info("No InfoGAN model yet. Shipped models appear in checkpoints/; or train an InfoGAN on the Train page.")
    st.stop()

choice = st.selectbox("Model", choices, format_func=lambda c: c.label, key="infogan.model")
model = cached_model(str(choice.path), choice.modified)


meanings = code_meanings(str(choice.path), choice.modified, model)
class_names = model.dataset.class_names


def category_label(value: int) -> str:
    if meanings.categories is None:
        return f"{value}"
    return f"{value}: {meanings.categories[value].describe(class_names)}"


def code_label(index: int) -> str:
    return f"Continuous code {index + 1}" + (f" ({meanings.codes[index].controls})" if meanings.codes else "")


if meanings.categories is not None:
    st.caption("The codes are learned without labels, so which digit a category value draws is this model's own, "
               "arbitrary choice. Beside each value: the digit the judge reads most often in 40 of its samples, and "
               "how often. Beside each continuous code: what sweeping it from -2 to 2 moves most, slant or width, "
               "measured from the ink of 200 samples.")


@st.fragment
def codes_and_pictures(path: str, modified: float, model) -> None:
    layout = model.layout
    left, right = st.columns([1, 2])
    with left:
        category = st.selectbox("Category code", list(range(layout.categorical)), format_func=category_label,
                                key="infogan.category") if layout.categorical else None
        continuous = [st.slider(code_label(index), -2.0, 2.0, 0.0, 0.1, key=f"infogan.code{index}")
                      for index in range(layout.continuous)]
        seed = int(st.number_input("Seed", 0, 2**31 - 1, 0, key="infogan.seed"))
    codes = "-".join([f"cat{category}"] * (category is not None) + [f"{value:+.1f}" for value in continuous])
    with right:
        picture = code_picture(path, modified, model, seed, category, tuple(continuous))
        st.image(picture, caption="the generator's image for these codes", output_format="PNG")
        st.download_button("Download this image (PNG)", picture, mime="image/png", on_click="ignore",
                           file_name=f"{Path(path).stem}-{codes}-seed{seed}.png", key="infogan.download")

    if layout.continuous and layout.categorical:
        st.subheader("Traversal")
        st.caption("Rows are the categorical code's values (with the digit each draws); columns sweep one continuous "
                   "code from -2 to 2, the other codes held at their slider values.")
        code_index = st.selectbox("Sweep code", list(range(layout.continuous)), format_func=code_label,
                                  key="infogan.sweep")
        rows = tuple(category_label(value) for value in range(layout.categorical))
        traversal = traversal_picture(path, modified, model, seed, code_index,
                                      traversal_base(continuous, code_index), rows)
        st.image(traversal, output_format="PNG")
        st.download_button("Download the traversal (PNG)", traversal, mime="image/png", on_click="ignore",
                           file_name=f"{Path(path).stem}-sweep-code{code_index + 1}-seed{seed}.png",
                           key="infogan.download_traversal")


codes_and_pictures(str(choice.path), choice.modified, model)
