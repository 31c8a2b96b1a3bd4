#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd from the Go module proxy for the e2e
# suite, and caches them outside the repository. Prints the folder that holds
# the two binaries. Reruns with a warm cache return at once.
#
#   KUBE_VERSION   k8s.io/kubernetes version   (default v1.35.4)
#   ETCD_VERSION   go.etcd.io/etcd/server/v3    (default v3.6.16)
#   LLMROUTE_CACHE cache root                   (default ~/.cache/llmroute)
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.35.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CACHE=${LLMROUTE_CACHE:-$HOME/.cache/llmroute}
OUT="$CACHE/controlplane/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"
# shellcheck source=hack/kube-wrapper-gomod.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-wrapper-gomod.sh"

if [[ -x "$OUT/kube-apiserver" && -x "$OUT/etcd" ]]; then
  echo "$OUT"
  exit 0
fi
command -v go >/dev/null || { echo "build-controlplane: Go is needed to build kube-apiserver and etcd" >&2; exit 1; }
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-auto} CGO_ENABLED=0

log() { echo "build-controlplane: $*" >&2; }

if [[ ! -x "$OUT/kube-apiserver" ]]; then
  log "building kube-apiserver $KUBE_VERSION; the first build takes several minutes"
  mkdir -p "$work/apiserver"
  cd "$work/apiserver"
  kube_wrapper_gomod llmroute.dev/controlplane/apiserver "$KUBE_VERSION" > go.mod
  cat > main.go <<'GO'
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
GO
  go mod tidy >&2
  go build -trimpath -ldflags "$(kube_ldflags "$KUBE_VERSION")" -o "$OUT/kube-apiserver.tmp" . >&2
  mv "$OUT/kube-apiserver.tmp" "$OUT/kube-apiserver"
fi

if [[ ! -x "$OUT/etcd" ]]; then
  log "building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd"
  cd "$work/etcd"
  cat > go.mod <<GOMOD
module llmroute.dev/controlplane/etcd

go 1.25

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
  cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
GO
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" . >&2
  mv "$OUT/etcd.tmp" "$OUT/etcd"
fi

echo "$OUT"
