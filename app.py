"""GAN Studio: `streamlit run app.py`. The page table and the sidebar every page shares are in app_shell.py."""

from app_shell import open_app

open_app().run()
