"""Recommend: IRGAN's top movies for a MovieLens user beside the BPR baseline's, with the user's held-out hits.

Everything comes from a ranking checkpoint (three small matrix factorisations) and the installed MovieLens-100K
files; the page only lays it out.
"""

import json
import random

import streamlit as st

from app_shell import run_inside_app
from gan_core.app.figures import curves_figure
from gan_core.app.models import available_models
from gan_core.app.run_curves import logged_series
from gan_core.errors import GanStudioError
from gan_core.retrieval.recommender import RANKER_TITLES, load_recommender

run_inside_app()

USER_KEY = "recommend.user"
CURVES = {"D_loss": "D loss", "reward_mean": "mean reward of G's picks", "held_out_P@5": "G's held-out P@5"}


@st.cache_resource(show_spinner="Loading the model and the MovieLens ratings…", max_entries=4)
def cached_recommender(path: str, modified: float):
    """The checkpoint's rankers with their data; `modified` makes a replaced file load afresh."""
    return load_recommender(path)


def ranked_table(items) -> list[dict]:
    """The hit mark sits beside the rank: as the last column it was cut off in a half-width table."""
    return [{"rank": item.rank, "hit": "✓" if item.held_out_hit else "", "movie": item.title or item.item_id,
             "genres": item.genres, "score": item.score} for item in items]


RANKED_COLUMNS = {
    "rank": st.column_config.NumberColumn("rank", width="small"),
    "hit": st.column_config.TextColumn("hit", width="small",
                                       help="✓: the user rated this movie 4 or 5 stars in the held-out 20%"),
    "score": st.column_config.NumberColumn("score", format="%.2f", width="small",
                                           help="the ranker's score; only the order matters"),
}


def pick_random_user(user_ids: tuple[str, ...]) -> None:
    st.session_state[USER_KEY] = int(random.choice(user_ids))


st.title("Recommend movies")
st.write("IRGAN's generator is a recommender: for a user it puts a probability on every movie, and it learned by "
         "policy gradient to pick movies its discriminator takes for ones the user likes. Here its top 10 stand "
         "beside BPR's, the usual non-adversarial ranker, trained on the same 80% of each user's ratings. "
         "A ✓ marks a movie the user rated 4 or 5 stars in the 20% neither model saw.")

choices = available_models(lambda spec: spec.data == "ratings")
if not choices:
    st.info("No ranking model yet: train IRGAN on the Train page.")
    st.stop()
choice = st.selectbox("Model", choices, format_func=lambda c: c.label, key="recommend.model")
try:
    recommender = cached_recommender(str(choice.path), choice.modified)
except GanStudioError as error:
    st.error(str(error))
    st.stop()

user_ids = recommender.user_ids
left, right = st.columns([3, 1])
st.session_state.setdefault(USER_KEY, int(user_ids[0]))
user = left.number_input(f"User ({user_ids[0]}–{user_ids[-1]})", int(user_ids[0]), int(user_ids[-1]), step=1,
                         key=USER_KEY)
right.button("Random user", on_click=pick_random_user, args=(user_ids,), key="recommend.random")

try:
    lists = {ranker: recommender.top(user, 10, ranker) for ranker in ("generator", "bpr")}
except GanStudioError as error:
    st.error(str(error))
    st.stop()

liked = recommender.liked(user)
with st.expander(f"User {user} liked {len(liked)} movies in training (4 or 5 stars)", expanded=False):
    st.dataframe([{"movie": title or item, "genres": genres} for item, title, genres in liked], hide_index=True)

columns = st.columns(2)
for column, (ranker, items) in zip(columns, lists.items()):
    with column:
        st.subheader(RANKER_TITLES[ranker])
        scores = recommender.user_metrics(user, ranker, ks=(5,))
        if scores is None:
            st.caption("This user has no liked movie in the held-out part: P@5 and NDCG@5 are undefined.")
        else:
            metric_columns = st.columns(2)
            metric_columns[0].metric("Precision@5", f"{scores['P@5']:.2f}")
            metric_columns[1].metric("NDCG@5", f"{scores['NDCG@5']:.2f}")
        st.dataframe(ranked_table(items), hide_index=True, column_config=RANKED_COLUMNS)

st.download_button("Download both lists (JSON)", mime="application/json", file_name=f"recommendations-user{user}.json",
                   data=json.dumps({"user": str(user), **{ranker: [item.to_dict() for item in items]
                                                          for ranker, items in lists.items()}}, indent=1,
                                   ensure_ascii=False), key="recommend.download")

st.subheader("How this model trained")
series = logged_series(choice.path, tuple(CURVES))
if not series:
    st.caption("No training log beside this checkpoint.")
for name, title in CURVES.items():
    if name in series:
        figure = curves_figure(title, {title: series[name]}, height=260)
        st.plotly_chart(figure, key=f"recommend.curve.{name}")
st.caption(f"Model step {recommender.loaded.step}; data: the installed MovieLens-100K "
           f"({recommender.data.n_users} users × {recommender.data.n_items} movies), split "
           f"'{recommender.loaded.config.extra.get('split', 'test')}'.")
