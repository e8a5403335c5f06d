"""Home: what a GAN is, and one card per variant with its objective and, when shipped, its samples."""

from pathlib import Path

import streamlit as st

from app_shell import run_inside_app
from gan_core.app.models import sample_png, shipped_model, translation_preview_png
from gan_core.errors import GanStudioError
from gan_core.refine import refinement_preview_png
from gan_core.registry import variants
from gan_core.retrieval.recommender import load_recommender
from gan_core.sequence.sampling import load_sequence_model
from views.models import cached_model

run_inside_app()


# A card is about 450 px wide beside the sidebar at 1400 px but 270 px at 1024, and KaTeX never wraps: a formula
# wider than its card was cut off. Each formula's size follows its card's width instead (a container query), at
# most KaTeX's own 1.21em; the widest objective (SeqGAN's) is about 22 of its ems long.
FORMULAS_FIT_THEIR_CARDS = """<style>
[data-testid="stElementContainer"]:has(.katex-display) { container-type: inline-size; }
.katex-display > .katex { font-size: min(1.21em, 4.4cqi); }
</style>"""


@st.cache_data(show_spinner=False)
def preview_png(path: str, modified: float) -> bytes:
    model = cached_model(path, modified)
    choices = {"labels": [index % model.layout.num_labels for index in range(16)]} if model.layout.num_labels else {}
    return sample_png(model, 16, seed=0, columns=8, **choices)


@st.cache_data(show_spinner="Translating the example photo…")
def translation_png(path: str, modified: float) -> bytes:
    return translation_preview_png(Path(path))


def sample_card(path: Path) -> None:
    st.image(preview_png(str(path), path.stat().st_mtime), caption=f"samples from {path.name}")


def translation_card(path: Path) -> None:
    st.image(translation_png(str(path), path.stat().st_mtime),
             caption=f"the example photo → its translation (→ and back, for a two-way model), by {path.name}")


@st.cache_data(show_spinner="Refining synthetic digits…")
def refinement_png(path: str, modified: float) -> bytes:
    return refinement_preview_png(Path(path))


def refinement_card(path: Path) -> None:
    st.image(refinement_png(str(path), path.stat().st_mtime),
             caption=f"synthetic digits → refined by {path.name}, in pairs")


@st.cache_data(show_spinner="Sampling sequences…")
def text_samples(path: str, modified: float) -> list[str]:
    return load_sequence_model(path).sample_lines(4, seed=0)


def text_card(path: Path) -> None:
    st.code("\n".join(text_samples(str(path), path.stat().st_mtime)), language=None)
    st.caption(f"four samples from {path.name}")


@st.cache_data(show_spinner="Ranking movies for a user…")
def first_users_top_five(path: str, modified: float) -> tuple[str, list[str]]:
    recommender = load_recommender(path)
    user = recommender.user_ids[0]
    return user, [item.title or item.item_id for item in recommender.top(user, 5, "generator")]


def ranked_list_card(path: Path) -> None:
    user, titles = first_users_top_five(str(path), path.stat().st_mtime)
    st.markdown("\n".join(f"{rank}. {title}" for rank, title in enumerate(titles, 1)))
    st.caption(f"the top 5 movies for user {user}, by {path.name}")


# What each card's second link says, by the page that shows the variant's models best.
PAGE_ACTIONS = {"/infogan": "Move the codes", "/conditional": "Choose labels", "/translate": "Translate a picture",
                "/refine": "Refine synthetic digits", "/recommend": "Recommend movies", "/sequences": "Compare samples",
                "/text-to-image": "Type a sentence"}
# What a card shows of a shipped model, by the variant's kind of sample.
CARD_BY_KIND = {"image_grid": sample_card, "image_pairs": translation_card, "refined_pairs": refinement_card,
                "text_lines": text_card, "ranked_lists": ranked_list_card}


st.title("GAN Studio")
st.markdown(
    "A **generative adversarial network** is two networks trained against each other. The *generator* "
    "turns random noise into images; the *discriminator* (or *critic*) tells real images from generated ones. "
    "Each improves by beating the other, until the generator's images are hard to tell from the data. "
    "The variants below differ in what they optimise and what you can control when sampling."
)

st.header("Start here")
first, second = st.columns(2)
# A page link stays on one line and cuts a long label short, so each says what it opens and a caption says more.
first.page_link("app_pages/playground.py", label="See a GAN learn: the 2-D playground", icon=":material/scatter_plot:")
first.caption("Two small networks on points in the plane; about 30 seconds.")
second.page_link("app_pages/train.py", label="Your first training job: DCGAN", icon=":material/model_training:",
                 query_params={"variant": "dcgan"})
second.caption("On 5,000 real MNIST digits; minutes on a CPU, with live curves and samples.")

st.header("The variants")
st.html(FORMULAS_FIT_THEIR_CARDS)
columns = st.columns(2)
for index, spec in enumerate(variants().values()):
    with columns[index % 2].container(border=True):
        st.subheader(spec.title)
        st.latex(spec.objective)
        st.write(spec.summary)
        st.caption(spec.paper)
        path = shipped_model(spec.name)
        card = CARD_BY_KIND.get(spec.sample_kind.name)
        if path is not None and card is not None:
            try:
                card(path)
            except GanStudioError as error:
                st.warning(f"{path.name} cannot be shown: {error}")
        # One link under the other: side by side, a half-card column cut "Choose labels" short at 1024 px.
        st.page_link("app_pages/train.py", label=f"Train {spec.title}", icon=":material/model_training:",
                     query_params={"variant": spec.name})
        if spec.page != "/train":
            page_file = f"app_pages/{spec.page.strip('/').replace('-', '_')}.py"  # url text-to-image: text_to_image.py
            st.page_link(page_file, label=PAGE_ACTIONS.get(spec.page, f"Open {spec.page}"),
                         icon=":material/arrow_forward:")
