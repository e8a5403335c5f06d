#!/usr/bin/env bash
# Install the runtime packages and start the app on http://127.0.0.1:8501 (extra arguments go to streamlit).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec python -m streamlit run app.py --server.address 127.0.0.1 "$@"
