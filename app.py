"""GAN Studio: `streamlit run app.py`. The page table, and the sidebar every page shares."""

import streamlit as st

from gan_core.app_support import job_manager, new_session_id
from gan_core.device import describe_device, resolve_device

# One row per page: file, title, icon, url path ("" is the home page at /).
PAGES = [
    ("pages/home.py", "Home", ":material/home:", ""),
    ("pages/train.py", "Train", ":material/model_training:", "train"),
    ("pages/infogan.py", "InfoGAN codes", ":material/tune:", "infogan"),
    ("pages/conditional.py", "Conditional", ":material/label:", "conditional"),
    ("pages/translate.py", "Translate", ":material/swap_horiz:", "translate"),
    ("pages/playground.py", "2-D playground", ":material/scatter_plot:", "playground"),
]

st.set_page_config(page_title="GAN Studio", page_icon=":material/auto_awesome:", layout="wide")
st.session_state.setdefault("session_id", new_session_id())

navigation = st.navigation([
    st.Page(path, title=title, icon=icon, url_path=url_path, default=url_path == "")
    for path, title, icon, url_path in PAGES
])


@st.fragment(run_every=5)
def running_jobs() -> None:
    """Also starts queued jobs and notices crashed ones, whichever page is open."""
    jobs = job_manager()
    jobs.refresh()
    st.write(f"**Running jobs:** {jobs.count_running()}")


with st.sidebar:
    st.caption("GAN Studio")
    st.write(f"**Device:** {describe_device(resolve_device('auto'))}")
    running_jobs()

navigation.run()
