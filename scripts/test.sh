#!/usr/bin/env bash
# Install everything the tests need (Python packages; Debian's chromium for the browser test) and run them.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
# MovieLens-100K (IRGAN) ships inside the recbole wheel; its declared dependencies are large and unused here
python -m pip install --quiet --disable-pip-version-check --no-deps recbole==1.2.1
bash scripts/install-fonts.sh  # handwriting fonts for SimGAN's digit simulator (Debian; optional)
bash scripts/apt-optional.sh "the browser tests are skipped" chromium  # driven by Playwright, never downloaded
exec python -m pytest "$@"
