#!/usr/bin/env bash
# Run CI (.ci/run) the way a new machine would: every cache the project and its tools fill emptied
# first, on a fresh clone, timed. Use it before saying that a change which adds a build, a download
# or a cluster test is done: a warm machine hides what a cold one pays (issue 22).
#
#   scripts/ci-fresh.sh --yes [REF]     REF: what to clone from this checkout (default: HEAD)
#
# It empties, for the whole machine (hence --yes): the project's cache folder, pip's and uv's, Go's module
# and build caches, npm's, ansible-test's and Molecule's, the Docker Engine's images and
# /var/lib/docker (every container goes; the Engine is stopped), the runtime set-up for privileged
# containers, ~/.kube, and the helm and kind binaries the roles install. It keeps what the machine
# itself brings (Debian's packages, Go, pyenv's Pythons): `.ci/run` installs the packages it needs.
# Prints each stage's time and the total at the end; the whole log goes to ci-fresh.log beside the clone.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" != --yes ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "ci-fresh: this empties caches and Docker's data for the whole machine; run it with --yes" >&2
  exit 2
fi
ref=${2:-HEAD}
commit=$(git -C "$here" rev-parse --verify "$ref^{commit}")
cache=${AIRFLOW_K8S_TEST_CACHE:-$HOME/.cache/airflow_k8s_platform}

say() { echo "ci-fresh: $*" >&2; }

stop_docker() {
  if docker info >/dev/null 2>&1; then
    local containers
    containers=$(docker ps -aq)
    # shellcheck disable=SC2086 # one argument per container id
    [ -z "$containers" ] || docker rm -f --volumes $containers >/dev/null
  fi
  if pkill -x dockerd; then
    for _ in $(seq 60); do pgrep -x dockerd >/dev/null || break; sleep 1; done
  fi
  pkill -x containerd 2>/dev/null || true
  # What a killed container left mounted would keep its files from being removed.
  grep -o ' /var/lib/docker[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  grep -o ' /run/docker[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}

empty_caches() {
  local gomodcache gocache
  gomodcache=$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")
  gocache=$(go env GOCACHE 2>/dev/null || echo "$HOME/.cache/go-build")
  # Go's module cache is read-only on disk by design.
  [ ! -d "$gomodcache" ] || chmod -R u+w "$gomodcache"
  # A cache the project made may hold a debootstrap's mounts (proc) if one was killed mid-way.
  grep -o " $cache/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$cache" "$HOME/.cache/pip" "$HOME/.cache/uv" "$gomodcache" "$gocache" "$HOME/.npm/_cacache" \
         "$HOME/.ansible/test" "$HOME/.cache/molecule" "$HOME/.cache/ansible-compat" "$HOME/.kube" \
         /var/lib/docker /var/lib/containerd /etc/docker/daemon.json /usr/local/libexec/airflow-k8s-platform \
         "$HOME/.local/bin/helm" "$HOME/.local/bin/kind" /usr/local/bin/helm /usr/local/bin/kind
}

say "stopping the Docker Engine and every container"
stop_docker
say "emptying the caches"
empty_caches

work=$(mktemp -d /tmp/ci-fresh.XXXXXX)
git clone --quiet --no-hardlinks "$here" "$work/clone"
git -C "$work/clone" checkout --quiet "$commit"
say "running .ci/run on a fresh clone of $(git -C "$work/clone" log -1 --format='%h %s') in $work/clone"

start=$SECONDS
set +e
(cd "$work/clone" && CI=true bash .ci/run) 2>&1 | tee "$work/ci-fresh.log"
rc=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - start))

echo
echo "=== ci-fresh: .ci/run exited $rc after $((elapsed / 60))m$(printf '%02d' $((elapsed % 60)))s on $commit"
grep -E '^(\[offline-build\] )?=== (stage )?[a-z-]+ took ' "$work/ci-fresh.log" || true
echo "=== ci-fresh: the whole log is $work/ci-fresh.log"
exit "$rc"
