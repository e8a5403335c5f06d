"""Image-to-image translation: one picture through a pix2pix or CycleGAN generator, ours or official."""

from pathlib import Path

import streamlit as st

from app_shell import run_inside_app
from gan_core.app.deployment import DeploymentSettings
from gan_core.app.models import available_models
from gan_core.errors import GanStudioError
from gan_core.grids import png_bytes
from gan_core.translation import (
    MAX_SIDE,
    example_picture,
    load_official_translator,
    load_translator,
    too_small,
    translate,
)
from gan_core.uploads import decode_image, describe_limits

run_inside_app()

TRAINED, OFFICIAL = "A GAN Studio model", "An official CycleGAN/pix2pix .pth generator"


@st.cache_resource(show_spinner="Loading the translator…")
def cached_translator(path: str, modified: float):
    return load_translator(path)


@st.cache_resource(show_spinner="Importing the official generator…", max_entries=2)
def cached_official(data: bytes, name: str):
    return load_official_translator(data, name)


@st.cache_resource(show_spinner="Importing the official generator…", max_entries=2)
def cached_official_file(path: str, modified: float):
    """An official generator read from disk; `modified` makes a replaced file load again."""
    return load_official_translator(path, Path(path).name)


@st.cache_data(show_spinner=False)
def cached_example():
    return example_picture()


st.title("Image-to-image translation")
st.write("A pix2pix model maps pictures of one kind to another, trained on aligned pairs; a CycleGAN learns two "
         "directions from unpaired collections and can map its output back, which shows what the cycle keeps.")

settings = DeploymentSettings.from_env()
if settings.public:
    st.info("Importing official .pth generators is turned off on this public server (GAN_STUDIO_PUBLIC=1): "
            "weight files from strangers are not loaded here. The models below were trained by GAN Studio.")
source = st.radio("Model", [TRAINED] if settings.public else [TRAINED, OFFICIAL], horizontal=True,
                  key="translate.source")
translator = None
try:
    if source == TRAINED:
        choices = available_models(lambda spec: spec.image_to_image and spec.page == "/translate")
        if not choices:
            st.info("No pix2pix or CycleGAN model yet: train one on the Train page (datasets "
                    "photo2sketch_paired, gray2color, photo2sketch) or import an official .pth generator above.")
            st.stop()
        choice = st.selectbox("Translator", choices, format_func=lambda c: c.label, key="translate.model")
        translator = cached_translator(str(choice.path), choice.modified)
    else:
        weights = st.file_uploader("Official generator (.pth, e.g. latest_net_G.pth)", type=["pth"],
                                   key="translate.official")
        weights_path = st.text_input(
            "…or its path on this computer", key="translate.official_path",
            placeholder="checkpoints/horse2zebra_pretrained/latest_net_G.pth",
            help=f"for files over the {st.get_option('server.maxUploadSize')} MB upload limit: an official CycleGAN "
                 "ResNet holds about 43 MiB of weights, a pix2pix U-Net about 208 MiB")
        st.caption("Official generators come from the CycleGAN/pix2pix project: its download scripts "
                   "(download_cyclegan_model.sh, download_pix2pix_model.sh) or your own training with it. "
                   "Read with torch.load(weights_only=True): a file that tries to run code is refused.")
        if weights is not None:
            translator = cached_official(weights.getvalue(), weights.name)
        elif weights_path.strip():
            path = Path(weights_path.strip()).expanduser()
            if path.is_dir():
                st.error(f"{path} is a folder: give the generator file inside it, e.g. {path / 'latest_net_G.pth'}")
                st.stop()
            if path.suffix.lower() == ".safetensors":
                st.error(f"{path.name} is a GAN Studio checkpoint, not an official .pth: copy it into the checkpoints "
                         "folder (or $GAN_STUDIO_CHECKPOINTS) and choose “A GAN Studio model” above")
                st.stop()
            translator = cached_official_file(str(path), path.stat().st_mtime if path.is_file() else 0.0)
        else:
            st.info("Upload a generator saved by the official project, or give its path, to translate with it.")
            st.stop()
except GanStudioError as error:
    st.error(str(error))
    st.stop()

st.caption(translator.title)
if translator.note:
    st.info(f"Synthesised training data: {translator.note}.")
if translator.expectation:
    st.info(f"What to expect: {translator.expectation}.")

upload = st.file_uploader("Picture", type=["png", "jpg", "jpeg", "webp", "bmp", "gif"], key="translate.picture")
st.caption(f"Accepted: {describe_limits(max_bytes=settings.max_upload_bytes)}. Without an upload the held-out cat "
           "photo (never trained on) is used.")
if upload is None:
    picture, picture_name = cached_example(), "example"
else:
    try:
        picture, picture_name = decode_image(upload.getvalue(), max_bytes=settings.max_upload_bytes), upload.name.rsplit(".", 1)[0]
    except GanStudioError as error:
        st.error(f"**{upload.name} was refused, so nothing was translated:** {error}. Upload another picture, "
                 "or remove this one (×) to see the example photo again.")
        st.stop()

direction = "AtoB"
if translator.has_cycle:
    direction = st.radio("Direction", translator.directions, horizontal=True, key="translate.direction",
                         format_func=lambda d: {"AtoB": "A → B (G_A)", "BtoA": "B → A (G_B)"}[d])

dropout_seed = None
if translator.has_dropout:
    noise, seed_column = st.columns([2, 1])
    if noise.toggle("Dropout noise (as the pix2pix paper tests)", key="translate.dropout",
                    help="pix2pix's only source of randomness is dropout, which the paper keeps on at test time. "
                         "Off: the same picture every time. On: each seed gives a slightly different translation."):
        dropout_seed = int(seed_column.number_input("Noise seed", 0, 2**31 - 1, 0, key="translate.dropout_seed"))

try:
    result = translate(translator, picture, direction, dropout_seed=dropout_seed)
except GanStudioError as error:
    st.error(str(error))
    st.stop()

st.caption(f"Pictures are translated whole (no tiles); a longest side over {MAX_SIDE} px is shrunk to "
           f"{MAX_SIDE} px first, keeping the aspect ratio.")
if result.shrunk_from:
    st.caption(f"This picture was {result.shrunk_from[0]}×{result.shrunk_from[1]} px and was shrunk to "
               f"{result.source.width}×{result.source.height} px.")
if result.prepared:
    st.caption(f"Note: {result.prepared}.")
if too_small(translator, picture):
    st.warning(f"This picture is {picture.width}×{picture.height} px, much smaller than the {translator.training_side}-px "
               "crops the model learned from: expect noise rather than a translation. Upload a larger picture.")

panels = [("Input", result.source), ("Translation", result.output)]
if result.reconstruction is not None:
    panels.append(("Reconstruction (back through the other generator)", result.reconstruction))
for column, (caption, image) in zip(st.columns(len(panels)), panels):
    column.image(image, caption=caption)
if result.reconstruction is not None:
    st.caption("The way back can only keep what the translation kept: where it dropped something (a sketch has no "
               "colour), the other generator has to invent it, so the reconstruction's colours are its guesses.")

st.download_button("Download the translation (PNG)", png_bytes(result.output),
                   file_name=f"{picture_name}-{direction}.png", mime="image/png", key="translate.download")
