#!/usr/bin/env bash
# Builds what a real single node needs beyond hack/build-controlplane.sh:
# kubelet, kube-controller-manager and kube-scheduler from the Go module proxy
# (the same wrapper-module method, the same default Go caches, so the builds
# share their work with kube-apiserver's), and the pause binary compiled
# statically from the kubelet module's own build/pause/linux/pause.c. Caches
# them outside the repository and prints the folder that holds them. Reruns
# with a warm cache return at once.
#
#   KUBE_VERSION   k8s.io/kubernetes version   (default v1.35.4)
#   LLMROUTE_CACHE cache root                   (default ~/.cache/llmroute)
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.35.4}
CACHE=${LLMROUTE_CACHE:-$HOME/.cache/llmroute}
OUT="$CACHE/node/kube-$KUBE_VERSION"
BINARIES=(kubelet kube-controller-manager kube-scheduler pause)
# shellcheck source=hack/kube-wrapper-gomod.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-wrapper-gomod.sh"

missing=()
for b in "${BINARIES[@]}"; do [[ -x "$OUT/$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$OUT"
  exit 0
fi
command -v go >/dev/null || { echo "build-node: Go is needed to build ${missing[*]}" >&2; exit 1; }
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-auto} CGO_ENABLED=0
log() { echo "build-node: $*" >&2; }

cd "$work"
kube_wrapper_gomod llmroute.dev/controlplane/node "$KUBE_VERSION" > go.mod

# One main package per binary, each calling its command's constructor the way
# the upstream cmd/<name> main does.
write_main() { # dir import constructor-call extra-imports
  mkdir -p "$1"
  cat > "$1/main.go" <<GO
package main

import (
	"os"
$4
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"$2"
)

func main() {
	os.Exit(cli.Run($3))
}
GO
}
write_main kubelet k8s.io/kubernetes/cmd/kubelet/app 'app.NewKubeletCommand(context.Background())' '	"context"'
write_main kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager/app 'app.NewControllerManagerCommand()' '	_ "time/tzdata"'
write_main kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler/app 'app.NewSchedulerCommand()' ''
go mod tidy >&2

for b in "${missing[@]}"; do
  [[ $b == pause ]] && continue
  log "building $b $KUBE_VERSION; a cold kubelet build takes several minutes"
  go build -trimpath -ldflags "$(kube_ldflags "$KUBE_VERSION")" -o "$OUT/$b.tmp" "./$b" >&2
  mv "$OUT/$b.tmp" "$OUT/$b"
done

if [[ ! -x "$OUT/pause" ]]; then
  command -v gcc >/dev/null || { echo "build-node: gcc (with a static libc) is needed to build pause" >&2; exit 1; }
  src=$(cd / && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/build/pause/linux/pause.c
  log "compiling pause from $src"
  gcc -Os -Wall -Werror -static -DVERSION="$KUBE_VERSION-llmroute" -o "$OUT/pause.tmp" "$src"
  mv "$OUT/pause.tmp" "$OUT/pause"
fi

echo "$OUT"
