"""What every page of GAN Studio stands in: the page table, the navigation and the shared sidebar.

app.py opens it and runs the chosen page. The page files live in `app_pages/`, not `pages/`: Streamlit treats a
`pages/` folder beside the main script as a legacy (v1) multipage app, so a first visit painted a navigation of
file names ("app, conditional, home, ...") for a few seconds before `st.navigation` drew ours, and a deep link
(a bookmark of /train) as the first visit of a fresh server ran that page file alone, with no session id and
no sidebar. Pages still call `run_inside_app` first, which does nothing unless such a folder exists.
"""

import streamlit as st
import torch
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime.pages_manager import PagesManager

from gan_core.app.deployment import app_threads
from gan_core.app.jobs import job_manager, new_session_id
from gan_core.device import describe_device, resolve_device

# The navigation's sections, each a list of pages: file, title, icon, url path ("" is the home page at /).
SECTIONS = {
    "Learn": [
        ("app_pages/home.py", "Home", ":material/home:", ""),
        ("app_pages/playground.py", "2-D playground", ":material/scatter_plot:", "playground"),
    ],
    "Train": [
        ("app_pages/train.py", "Train", ":material/model_training:", "train"),
    ],
    "Explore models": [
        ("app_pages/infogan.py", "InfoGAN codes", ":material/tune:", "infogan"),
        ("app_pages/conditional.py", "Conditional", ":material/label:", "conditional"),
        ("app_pages/style.py", "Style", ":material/style:", "style"),
        ("app_pages/text_to_image.py", "Text to image", ":material/text_fields:", "text-to-image"),
    ],
    "Translate": [
        ("app_pages/translate.py", "Translate", ":material/swap_horiz:", "translate"),
        ("app_pages/refine.py", "Refine", ":material/auto_fix_high:", "refine"),
    ],
    "Beyond images": [
        ("app_pages/sequences.py", "Sequences", ":material/notes:", "sequences"),
        ("app_pages/recommend.py", "Recommend", ":material/movie:", "recommend"),
    ],
}
PAGES = [page for pages in SECTIONS.values() for page in pages]


def open_app() -> StreamlitPage:
    """Page settings, this browser session's id, the navigation and the sidebar; returns the page to run."""
    st.set_page_config(page_title="GAN Studio", page_icon=":material/auto_awesome:", layout="wide")
    torch.set_num_threads(app_threads())  # per script thread, and the default for threads that start later
    st.session_state.setdefault("session_id", new_session_id())
    navigation = st.navigation({
        section: [st.Page(path, title=title, icon=icon, url_path=url_path, default=url_path == "")
                  for path, title, icon, url_path in pages]
        for section, pages in SECTIONS.items()
    })
    with st.sidebar:
        st.caption("GAN Studio")
        st.write(f"**Device:** {describe_device(resolve_device('auto'))}")
        running_jobs()
    return navigation


@st.fragment(run_every=5)
def running_jobs() -> None:
    """Also starts queued jobs and notices crashed ones, whichever page is open."""
    jobs = job_manager()
    jobs.refresh()
    st.write(f"**Running jobs:** {jobs.count_running()}")


def run_inside_app() -> None:
    """Call at the top of every page: when Streamlit runs the page alone (legacy mode), run it inside the app.

    `st.navigation` ends legacy mode for the whole server and replaces the file-name navigation with ours;
    the page then runs again the way app.py runs it, so its widgets get the same ids as in every later run
    (drawn straight on, the legacy run's form lost its first press), and this legacy run stops.
    """
    if PagesManager.uses_pages_directory:
        open_app().run()
        st.stop()
