"""Conditional generation: ask a CGAN, ACGAN, BigGAN or LAPGAN for the classes you choose, and walk between samples.

Models that sample with truncated noise (BigGAN) get a truncation control that the label rows follow; models
that build a sample as a pyramid (LAPGAN) get a toggle that shows one sample's coarse image, residuals and levels.

The sample grids and the interpolation are separate fragments, so a widget reruns only its own part;
every picture is cached by model and inputs.
"""

from pathlib import Path

import streamlit as st

from app_shell import run_inside_app
from gan_core.app.models import conditional_models, interpolation_png, sample_png
from gan_core.grids import stacked_png
from gan_core.inference import allows_truncation
from gan_core.stages import pyramid_png, shows_pyramid
from gan_core.truncation import THRESHOLD_RANGE
from views.models import cached_model

run_inside_app()


@st.cache_data(max_entries=512, show_spinner=False)
def label_grid(path: str, modified: float, _model, label: int, per_label: int, seed: int,
               truncation: float | None) -> bytes:
    """One row of `per_label` samples of `label`; `path` and `modified` key the cache, not `_model`."""
    return sample_png(_model, per_label, seed, columns=per_label, scale=3, labels=label, truncation=truncation)


@st.cache_data(max_entries=128, show_spinner=False)
def pyramid(path: str, modified: float, _model, seed: int, label: int) -> bytes:
    return pyramid_png(_model, seed, label)


@st.cache_data(max_entries=128, show_spinner=False)
def interpolation(path: str, modified: float, _model, seed_a: int, seed_b: int, label_a: int, label_b: int,
                  truncation: float | None) -> bytes:
    return interpolation_png(_model, seed_a, seed_b, 10, label_a, label_b, scale=3, truncation=truncation)


st.title("Conditional generation")
st.write("A conditional GAN takes the class label as an input, so you decide what it draws; the noise seed "
         "decides the style. Every row below uses the same noise, so only the label changes between rows.")

choices = conditional_models()
if not choices:
    st.info("No conditional model yet. Shipped models appear in checkpoints/; or train a CGAN, ACGAN, BigGAN or LAPGAN "
            "on the Train page.")
    st.stop()

choice = st.selectbox("Model", choices, format_func=lambda c: c.label, key="conditional.model")
model = cached_model(str(choice.path), choice.modified)
classes = model.dataset.class_names or [str(index) for index in range(model.layout.num_labels)]
labels = list(range(model.layout.num_labels))


def truncation_control(model) -> float | None:
    """The truncation threshold the user chose, for models that allow truncation; None means none."""
    if not allows_truncation(model):
        return None
    if not st.toggle("Truncate the noise", key="conditional.truncate",
                     help="The truncation trick: noise values beyond the threshold are drawn again. A smaller threshold "
                          "gives more typical, cleaner digits and less variety within each row."):
        return None
    return st.slider("Truncation threshold", THRESHOLD_RANGE[0], 2.0, 0.5, step=0.05, key="conditional.truncation")


@st.fragment
def label_grids(path: str, modified: float, model, truncation: float | None) -> None:
    chosen = st.multiselect("Labels", labels, default=labels[:3], format_func=lambda i: classes[i],
                            key="conditional.labels")
    columns = st.columns(2)
    per_label = columns[0].slider("Samples per label", 1, 16, 8, key="conditional.per_label")
    seed = int(columns[1].number_input("Seed", 0, 2**31 - 1, 0, key="conditional.seed"))
    if not chosen:
        st.info("Choose at least one label.")
        return
    rows = [label_grid(path, modified, model, label, per_label, seed, truncation) for label in chosen]
    for label, row in zip(chosen, rows):
        st.image(row, caption=f"label {classes[label]}", output_format="PNG")
    truncated = "" if truncation is None else f"-truncation{truncation:g}"
    st.download_button("Download these rows (PNG)", lambda: stacked_png(rows), mime="image/png", on_click="ignore",
                       file_name=f"{Path(path).stem}-labels-{'-'.join(classes[i] for i in chosen)}-seed{seed}{truncated}.png",
                       key="conditional.download")


@st.fragment
def pyramid_view(path: str, modified: float, model) -> None:
    """One sample's pyramid: the coarse image, each generated residual and each refined level."""
    if not st.toggle("Show how one sample is built, coarse to fine", key="conditional.pyramid",
                     help="This model draws a coarse image first; each finer level adds the detail (the residual) "
                          "that the upsampled image below it lacks."):
        return
    ends = st.columns(2)
    label = ends[0].selectbox("Label", labels, format_func=lambda i: classes[i], key="conditional.pyramid_label")
    seed = int(ends[1].number_input("Seed", 0, 2**31 - 1, 0, key="conditional.pyramid_seed"))
    picture = pyramid(path, modified, model, seed, label)
    st.image(picture, output_format="PNG")
    st.caption("Every picture is shown at the final size. Residuals are centred at grey: grey adds nothing, white "
               "brightens, black darkens the upsampled image they refine. The last picture is the sample itself.")
    st.download_button("Download the pyramid (PNG)", picture, mime="image/png", on_click="ignore",
                       file_name=f"{Path(path).stem}-pyramid-{classes[label]}-seed{seed}.png",
                       key="conditional.download_pyramid")


@st.fragment
def interpolation_row(path: str, modified: float, model, truncation: float | None) -> None:
    ends = st.columns(4)
    seed_a = int(ends[0].number_input("Seed A", 0, 2**31 - 1, 1, key="conditional.seed_a"))
    label_a = ends[1].selectbox("Label A", labels, format_func=lambda i: classes[i], key="conditional.label_a")
    seed_b = int(ends[2].number_input("Seed B", 0, 2**31 - 1, 2, key="conditional.seed_b"))
    label_b = ends[3].selectbox("Label B", labels, index=min(1, len(labels) - 1), format_func=lambda i: classes[i],
                                key="conditional.label_b")
    picture = interpolation(path, modified, model, seed_a, seed_b, label_a, label_b, truncation)
    st.image(picture, output_format="PNG")
    truncated = "" if truncation is None else f"-truncation{truncation:g}"
    st.download_button("Download the interpolation (PNG)", picture, mime="image/png", on_click="ignore",
                       file_name=f"{Path(path).stem}-seed{seed_a}-{classes[label_a]}-to-seed{seed_b}-{classes[label_b]}"
                                 f"{truncated}.png",
                       key="conditional.download_interpolation")


truncation = truncation_control(model)  # the label rows and the interpolation both follow it
label_grids(str(choice.path), choice.modified, model, truncation)
if shows_pyramid(model):
    st.subheader("Coarse to fine")
    pyramid_view(str(choice.path), choice.modified, model)
st.subheader("Interpolation")
st.caption("The generator's input walks in a straight line from one seed (and label) to another.")
interpolation_row(str(choice.path), choice.modified, model, truncation)
