"""GAN Studio: the Streamlit entry point. Builds the navigation and the shared sidebar."""

import streamlit as st

st.set_page_config(page_title="GAN Studio", page_icon="🎨", layout="wide")
st.title("GAN Studio")
st.write("Learn, train and play with generative adversarial networks.")
