#!/usr/bin/env bash
# Install the runtime packages and start the app on http://127.0.0.1:8501 (extra arguments go to streamlit).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -r requirements.txt
# MovieLens-100K (IRGAN) ships inside the recbole wheel; its declared dependencies are large and unused here
python -m pip install --quiet --disable-pip-version-check --no-deps recbole==1.2.1
bash scripts/install-fonts.sh  # handwriting fonts for SimGAN's digit simulator (Debian; optional)
bash scripts/apt-optional.sh "SeqGAN cannot train on Tang poems and the Sequences page shows no nearest poem" \
    fortunes-zh  # the Tang poems (Debian; optional)
exec python -m streamlit run app.py --server.address 127.0.0.1 "$@"
