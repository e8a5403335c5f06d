#!/usr/bin/env bash
# Install optional Debian packages: `bash scripts/apt-optional.sh "WITHOUT THEM" PACKAGE...`.
# Installs only the missing ones, with apt-get as root; otherwise prints the command to run and what the app does
# without them. Never fails its caller: every package installed this way is optional.
set -uo pipefail
without=$1
shift
missing=()
for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
    echo "note: ${missing[*]} missing and no apt-get here, so $without" >&2
elif [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
        || echo "warning: could not install ${missing[*]}, so $without" >&2
else
    echo "note: ${missing[*]} missing, so $without (to install them: sudo apt-get install ${missing[*]})" >&2
fi
exit 0
