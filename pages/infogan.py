"""InfoGAN codes: choose the categorical code and move the continuous codes; the image follows at once."""

import streamlit as st

from gan_core.app_support import load_model, models_with_codes, sample_png, traversal_png


@st.cache_resource(show_spinner="Loading the generator…")
def cached_model(path: str, modified: float):
    return load_model(path, modified)


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
layout = model.layout

left, right = st.columns([1, 2])
with left:
    category = st.selectbox("Category code", list(range(layout.categorical)), key="infogan.category") \
        if layout.categorical else None
    continuous = [st.slider(f"Continuous code {index + 1}", -2.0, 2.0, 0.0, 0.1, key=f"infogan.code{index}")
                  for index in range(layout.continuous)]
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="infogan.seed")
with right:
    image = sample_png(model, 1, int(seed), columns=1, scale=12, category=category,
                       continuous=continuous if layout.continuous else None)
    st.image(image, caption="the generator's image for these codes")

if layout.continuous and layout.categorical:
    st.subheader("Traversal")
    st.caption("Rows are the categorical code's values; columns sweep one continuous code from -2 to 2, "
               "the other codes held at their slider values.")
    code_index = st.selectbox("Sweep code", list(range(layout.continuous)), format_func=lambda i: f"code {i + 1}",
                              key="infogan.sweep")
    sweep = [-2.0 + 4.0 * step / 9 for step in range(10)]
    st.image(traversal_png(model, int(seed), code_index, sweep, continuous, scale=3))
