#!/usr/bin/env bash
# Installs the packages of hack/debian-packages.txt that are missing (as root,
# with apt-get); does nothing when all are there. Used by .ci/run.
set -euo pipefail
list="$(dirname "$0")/debian-packages.txt"
mapfile -t wanted < <(sed -e 's/#.*//' -e '/^\s*$/d' "$list")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "debian-packages: all ${#wanted[@]} installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "debian-packages: missing ${missing[*]}; run as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "debian-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y --no-install-recommends "${missing[@]}"
