#!/usr/bin/env bash
# Builds one lab component from its Go module into ~/.cache/platctl-lab/<name>-<version>/.
# Usage: go-build.sh <component> <version> [fetch]   (components: see the case below and test/lab/config.ts)
# Cached by version: a second call with the same version builds nothing.
# `fetch` only downloads the component's modules into the module cache (no lock, no build): the lab's install
# runs it for the next component while one compiles, so the network wait overlaps the compile.
# Each build uses a throwaway module, so upstream `replace` directives (ignored for
# dependencies) are restated here where a component needs them.
# The whole script is one `{ … }` block, read before it runs: editing this file while a build runs cannot
# change what that build executes.
{
set -euo pipefail
name=$1 version=$2 mode=${3:-build}
here=$(cd "$(dirname "$0")" && pwd)
cache=${PLATCTL_LAB_CACHE:-$HOME/.cache/platctl-lab}
out="$cache/$name-$version"
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
mkdir -p "$cache"
if [ "$mode" != fetch ]; then
  # One Go build at a time on this machine (2 cores, shared): wait for any other, then re-check.
  exec 9>"$cache/.go-build.lock"
  flock 9
  if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/platctl-lab-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
# Called right after a component's `go get` (which downloads every module its packages import, for any build
# tags): in fetch mode that is all there is to do.
fetched() {
  if [ "$mode" = fetch ]; then echo "fetched $name $version modules in $(( $(date +%s) - start ))s" >&2; exit 0; fi
  mkdir -p "$out/bin"
}
# -mod=mod: the throwaway module has no vendor dir and its go.sum is written by `go get`.
export GOFLAGS="${GOFLAGS:-} -buildvcs=false -mod=mod" CGO_ENABLED=0
# Two cores are shared with other builds and tests: never more than two compile jobs.
build="go build -p 2 -trimpath"
ldflags="-s -w"
start=$(date +%s)
printf 'module platctl.local/labbuild\n\ngo 1.24.0\n' > go.mod
# Path of a module's go.mod in the module cache (downloads it).
gomod() { go mod download -json "$1" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p'; }
# Source dir of a module in the module cache.
moddir() { go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'; }
# Carries a module's replace directives (version pins, forks) and godebug lines into the throwaway module.
# Replaces to local paths (`=> ./api`) are dropped: the published module of the required version is that code.
carry_replaces() {
  awk '
    /^replace \(/ { b = 1; print; next }
    b && /^\)/ { b = 0; print; next }
    b { if ($0 !~ /=> *\.\.?\//) print; next }
    /^replace [^(]/ { if ($0 !~ /=> *\.\.?\//) print; next }
    /^godebug / { print }
  ' "$1" >> go.mod
}
# The k8s.io staging modules at the version matching k8s.io/kubernetes (its go.mod replaces them with ./staging).
k8s_staging() {
  local staging
  staging=$(gomod "k8s.io/kubernetes@$1")
  {
    echo "replace ("
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#  \1 => \1 v0.'"${1#v1.}"'#p' "$staging"
    echo ")"
  } >> go.mod
}
# A controller whose main package is its module root (the Flux controllers).
flux_controller() {
  local mod=$1
  carry_replaces "$(gomod "$mod@$version")"
  shift
  # Extra replaces: pins of dependency versions the module proxy refuses.
  for r in "$@"; do echo "replace $r" >> go.mod; done
  go get "$mod@$version" >&2
  fetched
  $build -ldflags "$ldflags" -o "$out/bin/$name" "$mod" >&2
}
case "$name" in
  kube)
    minor=${version#v1.}; minor=${minor%%.*}
    k8s_staging "$version"
    # Pin the version on each package: a bare `go get pkg` would upgrade the module to latest.
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$version" "k8s.io/kubernetes/cmd/kube-controller-manager@$version" >&2
    fetched
    v=k8s.io/component-base/version
    ldflags="$ldflags -X $v.gitVersion=$version -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
    $build -ldflags "$ldflags" -o "$out/bin/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager >&2
    ;;
  etcd)
    # server/go.mod replaces api, client, pkg, raft with ../ paths; their published
    # modules of the same version are what those paths hold, so plain requires do.
    go get "go.etcd.io/etcd/server/v3@$version" >&2
    fetched
    $build -ldflags "$ldflags" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3 >&2
    ;;
  helm)
    go get "helm.sh/helm/v3/cmd/helm@$version" >&2
    fetched
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
    # Upstream's replace directives (its hcl fork) and godebug.
    carry_replaces "$(gomod "github.com/opentofu/opentofu@$version")"
    go get "github.com/opentofu/opentofu/cmd/tofu@$version" >&2
    fetched
    # dev=no makes `tofu version` print the release version, as upstream's release build.
    $build -ldflags "$ldflags -X github.com/opentofu/opentofu/version.dev=no" -o "$out/bin/tofu" \
      github.com/opentofu/opentofu/cmd/tofu >&2
    ;;
  scheduler)
    minor=${version#v1.}; minor=${minor%%.*}
    k8s_staging "$version"
    go get "k8s.io/kubernetes/cmd/kube-scheduler@$version" >&2
    fetched
    v=k8s.io/component-base/version
    ldflags="$ldflags -X $v.gitVersion=$version -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
    $build -ldflags "$ldflags" -o "$out/bin/" k8s.io/kubernetes/cmd/kube-scheduler >&2
    ;;
  kwok)
    go get "sigs.k8s.io/kwok/cmd/kwok@$version" >&2
    fetched
    $build -ldflags "$ldflags -X sigs.k8s.io/kwok/pkg/consts.Version=$version" -o "$out/bin/kwok" sigs.k8s.io/kwok/cmd/kwok >&2
    # The module's own stage files (node-initialize, pod-ready, pod-complete, pod-delete, ...), for the lab to load.
    mkdir -p "$out/stages"
    cp -r "$(moddir "sigs.k8s.io/kwok@$version")/kustomize/stage/." "$out/stages/"
    chmod -R u+w "$out/stages"
    ;;
  source-controller)
    # v1.9.4 requires github.com/fluxcd/pkg/artifact v0.18.2, which the module proxy refuses; v0.18.0 is served.
    flux_controller github.com/fluxcd/source-controller 'github.com/fluxcd/pkg/artifact => github.com/fluxcd/pkg/artifact v0.18.0'
    ;;
  kustomize-controller | helm-controller | notification-controller)
    flux_controller "github.com/fluxcd/$name"
    ;;
  gitea)
    # cgo: without it Gitea's SQLite driver is a stub. Upstream's replaces are version pins; carry them.
    carry_replaces "$(gomod "code.gitea.io/gitea@$version")"
    go get "code.gitea.io/gitea@$version" >&2
    fetched
    CGO_ENABLED=1 $build -tags 'sqlite sqlite_unlock_notify' \
      -ldflags "$ldflags -X main.Version=${version#v} -X 'main.Tags=sqlite sqlite_unlock_notify'" \
      -o "$out/bin/gitea" code.gitea.io/gitea >&2
    # STATIC_ROOT_PATH: locales and licences (options/) and templates; the web UI's built assets are not needed.
    src=$(moddir "code.gitea.io/gitea@$version")
    mkdir -p "$out/static"
    cp -r "$src/options" "$src/templates" "$out/static/"
    chmod -R u+w "$out/static"
    ;;
  hcl-inspect)
    # platctl's own small tool (build/hcl-inspect/main.go) on hashicorp/hcl/v2, for the EKS module's static
    # conformance test. Version: <hcl version>-<hash of main.go>, so an edit of the tool builds anew.
    cp "$here/hcl-inspect/main.go" .
    go get "github.com/hashicorp/hcl/v2@${version%%-*}" >&2
    fetched
    $build -ldflags "$ldflags" -o "$out/bin/hcl-inspect" . >&2
    ;;
  *) echo "unknown component $name" >&2; exit 2 ;;
esac
echo "built $name $version in $(( $(date +%s) - start ))s" >&2
touch "$out/.complete"
echo "$out"
exit 0
}
