"""Sequences: samples of two sequence models side by side (an MLE-only generator beside SeqGAN's), with a
temperature, the oracle's verdict on synthetic data, the nearest training sequence for real text, and the runs'
NLL curves.

Sampling, decoding, scoring and the nearest-sequence search live in gan_core; the page lays them out.
"""

import streamlit as st

from app_shell import run_inside_app
from gan_core.app.figures import curves_figure
from gan_core.app.models import available_models
from gan_core.app.run_curves import logged_series
from gan_core.errors import GanStudioError
from gan_core.sequence.sampling import load_sequence_model, nearest_training_sequences, oracle_score, training_sequences

run_inside_app()

CURVES = {"oracle_NLL": "Oracle NLL of G's samples (lower is better)", "heldout_NLL": "G's NLL of held-out sequences"}


@st.cache_resource(show_spinner="Loading the generator…", max_entries=8)
def cached_sequence_model(path: str, modified: float):
    return load_sequence_model(path)


@st.cache_resource(show_spinner="Reading the training sequences…", max_entries=4)
def cached_training_sequences(path: str, modified: float):
    return training_sequences(cached_sequence_model(path, modified))


st.title("Sequences")
st.write("SeqGAN's generator writes a sequence one token at a time. Pre-trained by maximum likelihood, it then "
         "learns by policy gradient: its discriminator scores finished sequences, and roll-outs turn that score "
         "into a reward for every token. Compare a generator trained by maximum likelihood only with one that "
         "went on with SeqGAN, on the same data and the same samples' seed.")

choices = available_models(lambda spec: spec.data == "token_sequences")
if not choices:
    st.info("No sequence model yet: train SeqGAN on the Train page.")
    st.stop()
models = {}
for choice in choices:
    try:
        models[choice] = cached_sequence_model(str(choice.path), choice.modified)
    except GanStudioError:
        continue  # a damaged file is not offered
datasets = sorted({model.loaded.dataset.name for model in models.values()})
dataset = st.radio("Data", datasets, horizontal=True, key="sequences.dataset",
                   format_func=lambda name: {"seqgan_oracle": "synthetic oracle (token ids)",
                                             "tang_poems": "Tang poems (characters)"}.get(name, name))
on_data = [choice for choice, model in models.items() if model.loaded.dataset.name == dataset]
controls = st.columns(3)
count = controls[0].slider("Samples per model", 1, 50, 10, key="sequences.count")
temperature = controls[1].slider("Temperature", 0.1, 2.0, 1.0, 0.05, key="sequences.temperature",
                                 help="below 1: likelier tokens, less variety; above 1: the reverse")
seed = int(controls[2].number_input("Seed", 0, 2**31 - 1, 0, key="sequences.seed"))

columns = st.columns(2)
shown = []
for index, column in enumerate(columns):
    with column:
        choice = st.selectbox("Model", on_data, index=min(index, len(on_data) - 1), format_func=lambda c: c.label,
                              key=f"sequences.model.{index}")
        model = models[choice]
        try:
            tokens = model.sample_ids(count, seed, temperature)
        except GanStudioError as error:
            st.error(str(error))
            continue
        lines = model.sample_lines(count, seed, temperature)
        shown.append(choice)
        if model.oracle_settings is not None:
            st.metric("Oracle NLL of these samples", f"{oracle_score(model, tokens):.3f}",
                      help="how unlikely the oracle that made the training data finds them (lower is better)")
            st.code("\n".join(lines), language=None)
        else:
            try:
                train = cached_training_sequences(str(choice.path), choice.modified)
            except GanStudioError as error:
                st.warning(f"The nearest training sequences cannot be shown: {error}")
                st.code("\n".join(lines), language=None)
            else:
                nearest, differing = nearest_training_sequences(tokens, train)
                nearest_lines = model.decode(train[nearest])
                st.dataframe([{"sample": line, "nearest training sequence": near, "positions that differ": int(d)}
                              for line, near, d in zip(lines, nearest_lines, differing.tolist())], hide_index=True)
                copies = int((differing == 0).sum())
                st.caption(f"{copies} of {count} samples copy a training sequence exactly.")
        st.download_button("Download these samples (.txt)", "".join(f"{line}\n" for line in lines),
                           file_name=f"{choice.path.stem}-seed{seed}-t{temperature:g}.txt", mime="text/plain",
                           key=f"sequences.download.{index}")

st.subheader("How these models trained")
for name, title in CURVES.items():
    series = {choice.label: logged_series(choice.path, (name,)).get(name) for choice in dict.fromkeys(shown)}
    series = {label: curve for label, curve in series.items() if curve is not None}
    if series:
        figure = curves_figure(title, series, legend_above=True)
        st.plotly_chart(figure, key=f"sequences.curve.{name}")
