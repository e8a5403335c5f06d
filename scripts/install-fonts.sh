#!/usr/bin/env bash
# Install the Debian handwriting fonts SimGAN's digit simulator draws from (gan_core/data/synthetic_digits.py,
# HANDWRITING_FONT_PACKAGES lists the same packages). Without them the simulator draws printed fonts and says so.
# Needs root (apt-get); otherwise prints the command to run. Never fails the caller: the fonts are optional.
set -uo pipefail
packages=(fonts-humor-sans fonts-dkg-handwriting fonts-breip fonts-rufscript fonts-comic-neue fonts-bwht
          fonts-dancingscript fonts-kaushanscript)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
    echo "note: no apt-get here; SimGAN's simulator will draw printed fonts (handwriting fonts: ${missing[*]})" >&2
elif [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
        || echo "warning: could not install ${missing[*]}; SimGAN's simulator will draw printed fonts" >&2
else
    echo "note: for handwriting-like synthetic digits run: sudo apt-get install ${missing[*]}" >&2
fi
exit 0
