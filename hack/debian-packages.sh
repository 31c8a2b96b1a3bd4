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
# Some packages (prometheus) start their service in their postinst through invoke-rc.d. Nothing here
# runs a packaged service (the tests start their own processes, with their own configs), so, where the
# machine has no policy-rc.d (a Docker image's forbids every start already), one that forbids them is
# in place for the install and removed afterwards.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# hack/debian-packages.sh: no service starts while it installs packages\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y --no-install-recommends "${missing[@]}"
