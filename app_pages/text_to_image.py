"""Text to image: type a sentence about a digit; StackGAN reads it, draws a coarse Stage-I and a refined Stage-II
image for eight noise seeds, and each generated digit is measured with the same fixed measures its training
captions were made from.

The reading, drawing and measuring are in `gan_core.text_to_image` (laid out by `gan_core.app.text_to_image`);
this page is the screen.
"""

import streamlit as st

from app_shell import run_inside_app
from gan_core.app.figures import share_bars
from gan_core.app.text_to_image import draw_caption, text_to_image_models
from gan_core.errors import GanStudioError
from gan_core.judge import load_judge
from gan_core.text.captions import HELD_OUT_COMBINATIONS
from gan_core.text_to_image import EXAMPLE_CAPTIONS
from views.models import cached_model

run_inside_app()

CAPTION_KEY = "t2i.caption"


@st.cache_resource(show_spinner=False)
def judge():
    return load_judge()


@st.cache_data(max_entries=128, show_spinner="Reading the sentence and drawing…")
def drawing(path: str, modified: float, _model, text: str):
    """`path`, `modified` and `text` key the cache, not `_model`."""
    return draw_caption(_model, text, judge())


def use_example(text: str) -> None:
    st.session_state[CAPTION_KEY] = text


st.title("Text to image")
st.write("StackGAN draws from a sentence in two stages: a text encoder turns the words into an embedding, "
         "*conditioning augmentation* draws a condition near it, Stage-I paints a coarse 16×16 digit from noise and "
         "the condition, and Stage-II repaints it at 32×32 from Stage-I's picture and the condition again. Both "
         "stages were trained against discriminators that also call a real digit with the wrong sentence fake.")
with st.expander("Where the words come from: how each attribute is measured"):
    st.write("The training captions describe real MNIST digits with words measured on each image, so they are true "
             "by construction. **Slant** is the shear of the ink from its second moments (how far the ink moves "
             "right per row, upwards): below -0.08 px per row it is *leaning left*, above 0.20 *leaning right*, "
             "otherwise *upright*. **Thickness** is the stroke width, twice the ink area over the length of the "
             "ink's outline (ink: pixels brighter than half): under 1.75 px *thin*, over 2.15 px *bold*, otherwise "
             "*medium*. **Width** is two standard deviations of the ink's columns: under 6.9 px *narrow*, over "
             "8.7 px *wide*. Every measure is taken at 32×32. Each word has synonyms (bold, thick, heavy, fat; "
             "leaning left, tilted to the left, backslanted …) and the digit is written as a numeral or a word. "
             "Some combinations were never shown in training: "
             + ", ".join(f"{['leaning left', 'upright', 'leaning right'][s]} {['thin', 'medium', 'bold'][t]} {d}"
                         for d, s, t in HELD_OUT_COMBINATIONS) + ".")

choices = text_to_image_models()
if not choices:
    st.info("No text-to-image model yet. The shipped one is checkpoints/stackgan-mnist.safetensors; or train a "
            "StackGAN on the Train page.")
    st.stop()
choice = st.selectbox("Model", choices, format_func=lambda c: c.label, key="t2i.model")
model = cached_model(str(choice.path), choice.modified)

st.caption("Examples: click one to draw it")
with st.container(horizontal=True, wrap=True):  # each button as wide as its words, in as many lines as it takes
    for index, example in enumerate(EXAMPLE_CAPTIONS):
        st.button(example, key=f"t2i.example.{index}", on_click=use_example, args=(example,))
st.session_state.setdefault(CAPTION_KEY, EXAMPLE_CAPTIONS[0])
text = st.text_input("Describe a digit", key=CAPTION_KEY, max_chars=None,
                     help="a digit (numeral or word) and, if you like, its slant, stroke thickness and width")

try:
    result = drawing(str(choice.path), choice.modified, model, text)
except GanStudioError as error:
    st.error(str(error))
    st.stop()

st.subheader("How the sentence was understood")
st.markdown(" ".join(f"`{word}`" if known else f":red[**{word}** (unknown)]" for word, known in result.words))
for warning in result.warnings:
    st.warning(warning)
with st.container(horizontal=True, wrap=True, gap="large"):  # as wide as "leaning right" needs, wrapping if must
    st.metric("Digit", str(result.digit), f"{result.digit_probability:.0%} sure", delta_color="off", width="content")
    for name, word, probability, _ in result.attributes:
        st.metric(name.capitalize(), word, f"{probability:.0%} sure", delta_color="off", width="content")

st.subheader("Both stages, eight noise seeds")
for name, row in zip(result.stages, result.stage_rows):
    st.image(row, caption=f"{name} (seeds 0-7)" + (", enlarged" if name != result.stages[-1] else ""))

st.subheader("What each generated digit measures")
columns = st.columns(len(result.measured))
said = {name: word for name, word, _, is_said in result.attributes if is_said}
for seed, (column, (digit, words)) in enumerate(zip(columns, result.measured)):
    marks = [f"{'✓' if digit == result.digit else '✗'} digit {digit}"]
    for (name, _, _, _), word in zip(result.attributes, words):
        mark = "" if name not in said else ("✓ " if said[name] == word else "✗ ")
        marks.append(f"{mark}{word}")
    column.markdown(f"**seed {seed}**  \n" + "  \n".join(marks))
agreement = result.agreement()
st.plotly_chart(share_bars(agreement, "seeds whose measured digit or word matches the reading", len(result.measured)),
                key="t2i.agreement")
st.download_button("Download both stages (PNG)", result.download, file_name="text-to-image.png", mime="image/png",
                   key="t2i.download")
