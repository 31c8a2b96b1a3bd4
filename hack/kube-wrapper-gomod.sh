# Sourced by hack/build-controlplane.sh and hack/build-node.sh.
#
# kube_wrapper_gomod MODULE KUBE_VERSION prints a go.mod for a wrapper module
# that depends on k8s.io/kubernetes at KUBE_VERSION. k8s.io/kubernetes
# requires its staging modules at v0.0.0 and replaces them with ./staging
# paths; a module that depends on it must point each one at the published
# version instead. The list is read from k8s.io/kubernetes's own go.mod.
kube_wrapper_gomod() {
  local module=$1 version=$2 gomod staging m
  local staging_version="v0.${version#v1.}"
  # Run outside any module: the caller may be writing go.mod in its folder.
  gomod=$(cd / && go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  staging=$(grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" | awk '{print $1}' | sort -u)
  echo "module $module"
  echo
  echo "go 1.25"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  for m in $staging; do echo "  $m => $m $staging_version"; done
  echo ")"
}

# The -ldflags that stamp a Kubernetes binary with its version.
kube_ldflags() {
  echo "-s -w -X k8s.io/component-base/version.gitVersion=$1 -X k8s.io/client-go/pkg/version.gitVersion=$1"
}
