"""Refine: synthetic digits from the font renderer beside what a SimGAN refiner makes of them."""

import streamlit as st

from app_shell import run_inside_app
from gan_core.app.models import available_models, load_model
from gan_core.data.synthetic_digits import DigitStyles, Renderer
from gan_core.data.types import to_unit_range
from gan_core.errors import GanStudioError
from gan_core.grids import png_bytes, to_pil
from gan_core.refine import RefinedBatch, arrays_npz, pairs_picture, refine_random, refine_styles, refiner_size

run_inside_app()

CHOOSE, RANDOM = "Choose a digit", "Random batch"
GRID_PAIRS = 32
# The font the page opens on when it is installed: a plain pen hand whose digits read clearly at 28 px (the
# simulator's first font by file order draws a nearly closed 3).
FIRST_FONT = "Humor-Sans"


@st.cache_resource(show_spinner="Loading the refiner…")
def cached_refiner(path: str, modified: float):
    return load_model(path, modified)


@st.cache_resource(show_spinner="Rendering the font glyphs…")
def cached_renderer() -> Renderer:
    return Renderer()


st.title("Refine synthetic digits")
st.write("SimGAN's idea: a simulator gives labelled pictures for free, but they do not look real. A refiner network "
         "learns, from unlabelled real digits, to make them look real while an L1 term keeps each picture close to "
         "its synthetic original, so its label stays true. Here the simulator draws digits in the handwriting fonts "
         "installed on this machine (Debian packages that `scripts/install-fonts.sh` installs; printed fonts where "
         "there are none); the refiner was trained against real MNIST digits.")

choices = available_models(lambda spec: spec.page == "/refine")
if not choices:
    st.info("No SimGAN refiner yet: train one on the Train page (variant SimGAN, dataset synthetic_digits).")
    st.stop()
try:
    choice = st.selectbox("Refiner", choices, format_func=lambda c: c.label, key="refine.model")
    model = cached_refiner(str(choice.path), choice.modified)
    size = refiner_size(model.generator, model.dataset.image_shape)
    renderer = cached_renderer()
except GanStudioError as error:
    st.error(str(error))
    st.stop()

mode = st.radio("Synthetic digits", [CHOOSE, RANDOM], horizontal=True, key="refine.mode")
if mode == CHOOSE:
    left, right = st.columns(2)
    digit = left.select_slider("Digit", options=list(range(10)), value=3, key="refine.digit")
    font = left.selectbox("Font", range(len(renderer.fonts)), format_func=lambda i: renderer.fonts[i],
                          index=renderer.fonts.index(FIRST_FONT) if FIRST_FONT in renderer.fonts else 0,
                          key="refine.font")
    rotation = right.slider("Rotation (degrees)", -30.0, 30.0, 0.0, 1.0, key="refine.rotation")
    stroke = right.slider("Stroke width (pixels of 28)", 1.5, 4.5, 2.8, 0.1, key="refine.stroke",
                          help="real MNIST strokes are about 2.2-3.8 px wide; the renderer draws 2.0-3.8")
    single = refine_styles(model.generator, size, renderer,
                           DigitStyles.fixed(digit, font, rotation=rotation, stroke=stroke))
    grid_seed = st.number_input("Seed of the grid below", 0, 2**31 - 1, 0, key="refine.grid_seed")
else:
    grid_seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="refine.seed")
    single = None

grid = refine_random(model.generator, size, renderer, GRID_PAIRS, int(grid_seed))
shown = single if single is not None else RefinedBatch(grid.synthetic[:1], grid.labels[:1], grid.refined[:1])

columns = st.columns(3)
for column, (title, image) in zip(columns, (("Synthetic", to_unit_range(shown.synthetic)), ("Refined", shown.refined),
                                            ("Difference |refined − synthetic|", shown.difference))):
    column.image(png_bytes(to_pil(image, columns=1, padding=0, scale=8)), caption=title)
st.caption(f"digit {int(shown.labels[0])}; mean change per pixel {shown.mean_l1():.3f} (0 none, 1 every pixel "
           "inverted). Black in the difference means the refiner left that pixel alone.")

st.subheader(f"{GRID_PAIRS} random pairs: synthetic → refined")
grid_png = png_bytes(pairs_picture(grid, columns=8, scale=3))
st.image(grid_png, caption=f"renderer seed {int(grid_seed)}; mean change per pixel {grid.mean_l1():.3f}")

downloads = st.columns(3)
downloads[0].download_button("Pair (PNG)", png_bytes(pairs_picture(shown, columns=1, scale=8, with_difference=True)),
                             file_name="refined_digit.png", mime="image/png", key="refine.download_pair")
downloads[1].download_button("Grid (PNG)", grid_png, file_name=f"refined_grid_seed{int(grid_seed)}.png",
                             mime="image/png", key="refine.download_grid")
downloads[2].download_button("Grid as arrays (.npz)", arrays_npz(grid), file_name=f"refined_seed{int(grid_seed)}.npz",
                             mime="application/octet-stream", key="refine.download_npz",
                             help="synthetic and refined digits (uint8) with their labels, for training with them")
st.caption(f"{choice.label}: step {model.step}. How much refined digits help a classifier on real ones is measured "
           "in BENCHMARKS.md (SimGAN utility).")
