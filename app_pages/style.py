"""Style: mix the styles of two seeds layer by layer, truncate towards the mean w, and switch the noise.

A StyleGAN generator draws each image from one w per layer; the grid below gives A's w to some layers and
B's to the rest. Every picture is cached by model and inputs, and the controls and pictures are one
fragment, so moving a slider redraws only them.
"""

from pathlib import Path

import streamlit as st

from app_shell import run_inside_app
from gan_core.app.style import mixing_grid_png, style_models, truncation_png
from gan_core.errors import GanStudioError
from gan_core.styles import BANDS, Noise, band_layers, crossover_layers, parse_seeds, require_style_generator
from views.models import cached_model

run_inside_app()

TRUNCATION_STRIP = (1.0, 0.7, 0.5, 0.3, 0.0)


@st.cache_data(max_entries=256, show_spinner="Drawing the grid…")
def mixing_picture(path: str, modified: float, _model, seeds_a: tuple[int, ...], seeds_b: tuple[int, ...],
                   bands: tuple[str, ...], crossover: int | None, psi: float, noise_mode: str, noise_seed: int) -> bytes:
    """`path` and `modified` key the cache, not `_model`."""
    layers = crossover_layers(_model, crossover) if crossover is not None else band_layers(_model, bands)
    return mixing_grid_png(_model, seeds_a, seeds_b, layers, psi, Noise(noise_mode, noise_seed))


@st.cache_data(max_entries=64, show_spinner=False)
def truncation_picture(path: str, modified: float, _model, seeds: tuple[int, ...], noise_mode: str,
                       noise_seed: int) -> bytes:
    return truncation_png(_model, seeds, TRUNCATION_STRIP, Noise(noise_mode, noise_seed))


st.title("Style mixing")
st.write("StyleGAN maps each seed's noise z to an intermediate latent w and feeds one copy of w to every layer "
         "of the generator, as a *style*. Give the early (coarse, 4×4-8×8) layers one seed's w and the later "
         "layers another's, and the picture takes its overall shape from the first and its finer looks from the "
         "second. Rows are source A, columns source B; each cell is A with the chosen layers taken from B.")

choices = style_models()
if not choices:
    st.info("No StyleGAN model yet. The shipped one is checkpoints/stylegan-mnist.safetensors; or train a StyleGAN "
            "on the Train page.")
    st.stop()

choice = st.selectbox("Model", choices, format_func=lambda c: c.label, key="style.model")
model = cached_model(str(choice.path), choice.modified)
try:
    generator = require_style_generator(model)
except GanStudioError as error:
    st.error(str(error))
    st.stop()


@st.fragment
def mixing(path: str, modified: float, model) -> None:
    left, right = st.columns(2)
    text_a = left.text_input("Source A seeds (rows)", "1, 2, 3, 4, 5", key="style.seeds_a",
                             help="integers separated by commas, or ranges like 5-8; at most 16")
    text_b = right.text_input("Source B seeds (columns)", "11, 12, 13, 14, 15", key="style.seeds_b")
    how = st.radio("Layers that take B's styles", ("By band", "From a crossover layer"), horizontal=True,
                   key="style.how")
    crossover = None
    bands: tuple[str, ...] = ("middle", "fine")
    if how == "By band":
        bands = tuple(st.multiselect("Bands from B", BANDS, default=["middle", "fine"], key="style.bands",
                                     help="coarse: 4×4-8×8 (the digit's shape); middle: 16×16; fine: 32×32 "
                                          "(stroke and texture)"))
    else:
        crossover = st.slider("Crossover layer: layers from here on take B's w", 0, generator.num_ws,
                              generator.num_ws // 2, key="style.crossover",
                              help=f"0: all from B; {generator.num_ws}: none from B (no mixing)")
    controls = st.columns(3)
    psi = controls[0].slider("Truncation ψ", 0.0, 1.0, 1.0, 0.05, key="style.psi",
                             help="pulls every w towards the mean w: 1 keeps it, 0 gives the mean image for every seed")
    noise_on = controls[1].toggle("Noise on", True, key="style.noise_on",
                                  help="per-layer noise inputs; off leaves them out")
    st.session_state.setdefault("style.noise_seed", 0)
    if controls[2].button("Resample noise", key="style.resample", disabled=not noise_on,
                          help="same w's, new noise: only fine detail should change"):
        st.session_state["style.noise_seed"] += 1
    noise_seed = st.session_state["style.noise_seed"]
    noise_mode = "none" if not noise_on else ("const" if noise_seed == 0 else "random")
    try:
        seeds_a, seeds_b = parse_seeds(text_a), parse_seeds(text_b)
        picture = mixing_picture(path, modified, model, tuple(seeds_a), tuple(seeds_b), bands, crossover, psi,
                                 noise_mode, noise_seed)
    except GanStudioError as error:
        st.error(str(error))
        return
    noise_words = {"none": "no noise", "const": "the model's stored noise",
                   "random": f"resampled noise #{noise_seed}"}[noise_mode]
    from_b = f"bands {', '.join(bands) or 'none'}" if crossover is None else f"layers {crossover}-{generator.num_ws - 1}"
    st.image(picture, caption=f"top row: B; left column: A; cells: A with {from_b} from B; ψ = {psi:g}; "
                              f"{noise_words}", output_format="PNG")
    layers = f"x{crossover}" if crossover is not None else "-".join(bands) or "none"
    st.download_button("Download the grid (PNG)", picture, mime="image/png", on_click="ignore",
                       file_name=f"{Path(path).stem}-mix-{layers}-psi{psi:g}-{noise_mode}{noise_seed}.png",
                       key="style.download")

    st.subheader("Truncation")
    st.caption(f"Rows: ψ = {', '.join(f'{value:g}' for value in TRUNCATION_STRIP)}; columns: the A seeds, then the "
               "mean w's image. As ψ falls every seed moves towards the mean image: more typical, less varied.")
    strip = truncation_picture(path, modified, model, tuple(seeds_a), noise_mode, noise_seed)
    st.image(strip, output_format="PNG")
    st.download_button("Download the truncation rows (PNG)", strip, mime="image/png", on_click="ignore",
                       file_name=f"{Path(path).stem}-truncation-{noise_mode}{noise_seed}.png",
                       key="style.download_truncation")


mixing(str(choice.path), choice.modified, model)
