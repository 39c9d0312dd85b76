#!/usr/bin/env bash
# Builds one lab component from its Go module into ~/.cache/platctl-lab/<name>-<version>/.
# Usage: go-build.sh <kube|tofu|helm|etcd> <version>
# Cached by version: a second call with the same version builds nothing.
# Each build uses a throwaway module, so upstream `replace` directives (ignored for
# dependencies) are restated here where a component needs them.
set -euo pipefail
name=$1 version=$2
cache=${PLATCTL_LAB_CACHE:-$HOME/.cache/platctl-lab}
out="$cache/$name-$version"
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
# One Go build at a time on this machine (2 cores, shared): wait for any other, then re-check.
mkdir -p "$cache"
exec 9>"$cache/.go-build.lock"
flock 9
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/platctl-lab-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p "$out/bin"
# -mod=mod: the throwaway module has no vendor dir and its go.sum is written by `go get`.
export GOFLAGS="${GOFLAGS:-} -buildvcs=false -mod=mod" CGO_ENABLED=0
# Two cores are shared with other builds and tests: never more than two compile jobs.
build="go build -p 2 -trimpath"
ldflags="-s -w"
start=$(date +%s)
printf 'module platctl.local/labbuild\n\ngo 1.24.0\n' > go.mod
case "$name" in
  kube)
    minor=${version#v1.}; minor=${minor%%.*}
    staging=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    {
      echo "replace ("
      sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#  \1 => \1 v0.'"${version#v1.}"'#p' "$staging"
      echo ")"
    } >> go.mod
    # Pin the version on each package: a bare `go get pkg` would upgrade the module to latest.
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$version" "k8s.io/kubernetes/cmd/kube-controller-manager@$version" >&2
    v=k8s.io/component-base/version
    ldflags="$ldflags -X $v.gitVersion=$version -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
    $build -ldflags "$ldflags" -o "$out/bin/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager >&2
    ;;
  etcd)
    # server/go.mod replaces api, client, pkg, raft with ../ paths; their published
    # modules of the same version are what those paths hold, so plain requires do.
    go get "go.etcd.io/etcd/server/v3@$version" >&2
    $build -ldflags "$ldflags" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3 >&2
    ;;
  helm)
    go get "helm.sh/helm/v3/cmd/helm@$version" >&2
    # As upstream's Makefile: the version, and the Kubernetes version Helm assumes
    # when templating without a cluster (from the client-go it is built with).
    kv=$(go list -m -f '{{.Version}}' k8s.io/client-go); kv=${kv#v0.}
    hv=helm.sh/helm/v3
    ldflags="$ldflags -X $hv/internal/version.version=$version -X $hv/internal/version.metadata="
    ldflags="$ldflags -X $hv/internal/version.gitTreeState=clean"
    for p in pkg/lint/rules pkg/chartutil; do
      ldflags="$ldflags -X $hv/$p.k8sVersionMajor=1 -X $hv/$p.k8sVersionMinor=${kv%%.*}"
    done
    $build -ldflags "$ldflags" -o "$out/bin/helm" helm.sh/helm/v3/cmd/helm >&2
    ;;
  tofu)
    mod=$(go mod download -json "github.com/opentofu/opentofu@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    # Carry upstream's replace directives (its hcl fork) and godebug into the throwaway module.
    awk '/^replace \(/{b=1} b{print} b&&/^\)/{b=0} /^(replace [^(]|godebug )/{print}' "$mod" >> go.mod
    go get "github.com/opentofu/opentofu/cmd/tofu@$version" >&2
    # dev=no makes `tofu version` print the release version, as upstream's release build.
    $build -ldflags "$ldflags -X github.com/opentofu/opentofu/version.dev=no" -o "$out/bin/tofu" \
      github.com/opentofu/opentofu/cmd/tofu >&2
    ;;
  *) echo "unknown component $name" >&2; exit 2 ;;
esac
echo "built $name $version in $(( $(date +%s) - start ))s" >&2
touch "$out/.complete"
echo "$out"
