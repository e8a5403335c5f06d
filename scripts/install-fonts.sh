#!/usr/bin/env bash
# Install the Debian handwriting fonts SimGAN's digit simulator draws from (gan_core/data/synthetic_digits.py,
# HANDWRITING_FONT_PACKAGES lists the same packages). Without them the simulator draws printed fonts and says so.
# Needs root (apt-get); otherwise prints the command to run. Never fails the caller: the fonts are optional.
set -uo pipefail
packages=(fonts-humor-sans fonts-dkg-handwriting fonts-breip fonts-rufscript fonts-comic-neue fonts-bwht
          fonts-dancingscript fonts-kaushanscript)
exec bash "$(dirname "$0")/apt-optional.sh" "SimGAN's digit simulator draws printed fonts, not handwriting" \
    "${packages[@]}"
