#!/usr/bin/env bash
# git-sync for the Airflow chart's gitSync sidecar and init container, where k8s.io/git-sync
# can't be built (the Go module proxy does not serve it). It honours the part of git-sync v4's
# contract the chart uses, from the same environment variables:
#   GITSYNC_REPO; GITSYNC_REF (a branch, tag or commit); GITSYNC_DEPTH (0: the whole history);
#   GITSYNC_ROOT and GITSYNC_LINK: each commit is checked out once under ROOT/.worktrees and
#     published as the symlink ROOT/LINK, swapped in one step, so readers never see half a tree;
#   GITSYNC_PERIOD; GITSYNC_MAX_FAILURES (consecutive failures before it exits; -1: never);
#   GITSYNC_ONE_TIME (sync once and exit: the init container); GITSYNC_HTTP_BIND (answers 200
#     on / while the last sync succeeded, 503 otherwise: the chart's probes);
#   GITSYNC_SSH_KEY_FILE, GITSYNC_SSH_KNOWN_HOSTS, GITSYNC_SSH_KNOWN_HOSTS_FILE (SSH with a deploy
#     key, the server's host key checked against the pinned known_hosts unless told not to);
#   GITSYNC_USERNAME, GITSYNC_PASSWORD (HTTPS; given to git through GIT_ASKPASS, never in a URL).
# Each failure is one line on stderr that names the repository, the ref and git's own reason.
set -uo pipefail

repo=${GITSYNC_REPO:?GITSYNC_REPO is not set}
ref=${GITSYNC_REF:-HEAD}
depth=${GITSYNC_DEPTH:-1}
root=${GITSYNC_ROOT:-/git}
link=${GITSYNC_LINK:-$(basename "$repo" .git)}
period=${GITSYNC_PERIOD:-10s}
max_failures=${GITSYNC_MAX_FAILURES:-0}
one_time=${GITSYNC_ONE_TIME:-false}
mirror=$root/.mirror
healthy=/tmp/git-sync.healthy

log() { echo "git-sync: $*" >&2; }

# The line of git's output that says why: the first that names a cause (ssh's "Permission denied"
# comes before git's generic "Could not read from remote repository"), else the last line.
reason() {
  printf '%s\n' "$1" | grep -m 1 -iE 'denied|verification failed|fatal:|error:|not found|could not|unable to' ||
    printf '%s\n' "$1" | grep -v '^[[:space:]]*$' | tail -n 1
}

if [ -n "${GITSYNC_SSH_KEY_FILE:-}" ]; then
  ssh=(ssh -o BatchMode=yes -o IdentitiesOnly=yes -i "$GITSYNC_SSH_KEY_FILE")
  if [ "${GITSYNC_SSH_KNOWN_HOSTS:-true}" = true ]; then
    ssh+=(-o StrictHostKeyChecking=yes -o "UserKnownHostsFile=${GITSYNC_SSH_KNOWN_HOSTS_FILE:-/etc/git-secret/known_hosts}")
  else
    ssh+=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null)
  fi
  export GIT_SSH_COMMAND="${ssh[*]}"
fi
if [ -n "${GITSYNC_USERNAME:-}" ]; then
  export GIT_ASKPASS=/usr/local/bin/git-sync-askpass
fi
# Never wait for an answer nobody will type: fail and say why instead.
export GIT_TERMINAL_PROMPT=0

sync_once() {
  local output sha current
  if [ ! -d "$mirror" ]; then
    git init --quiet --bare "$mirror" && git -C "$mirror" remote add origin "$repo" || return 1
  fi
  git -C "$mirror" remote set-url origin "$repo"
  local fetch=(fetch --quiet --force --no-tags origin "$ref")
  [ "$depth" -gt 0 ] && fetch+=(--depth "$depth")
  if ! output=$(git -C "$mirror" "${fetch[@]}" 2>&1); then
    log "can't fetch $ref from $repo: $(reason "$output")"
    return 1
  fi
  sha=$(git -C "$mirror" rev-parse 'FETCH_HEAD^{commit}') || return 1
  current=$(readlink "$root/$link" 2>/dev/null || true)
  if [ "$current" != ".worktrees/$sha" ]; then
    rm -rf "${root:?}/.worktrees/$sha"
    git -C "$mirror" worktree prune
    if ! output=$(git -C "$mirror" worktree add --quiet --detach "$root/.worktrees/$sha" "$sha" 2>&1); then
      log "can't check out $sha: $(reason "$output")"
      return 1
    fi
    ln -sfn ".worktrees/$sha" "$root/.$link.new" && mv -T "$root/.$link.new" "$root/$link" || return 1
    log "synced $ref of $repo: $sha"
    if [ -n "$current" ]; then
      git -C "$mirror" worktree remove --force "$root/$current" 2>/dev/null || rm -rf "${root:?}/$current"
    fi
  fi
  touch "$healthy"
}

serve_health() {  # $1: [host]:port
  python3 - "$1" "$healthy" <<'PY' &
import http.server, os, sys
host, _, port = sys.argv[1].rpartition(":")
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if os.path.exists(sys.argv[2]) else 503)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((host, int(port)), Health).serve_forever()
PY
}

mkdir -p "$root"
if [ "$one_time" = true ]; then
  sync_once
  exit
fi
[ -n "${GITSYNC_HTTP_BIND:-}" ] && serve_health "$GITSYNC_HTTP_BIND"
failures=0
while true; do
  if sync_once; then
    failures=0
  else
    failures=$((failures + 1))
    rm -f "$healthy"
    if [ "$max_failures" -ge 0 ] && [ "$failures" -gt "$max_failures" ]; then
      log "giving up after $failures failed syncs in a row (GITSYNC_MAX_FAILURES=$max_failures)"
      exit 1
    fi
  fi
  sleep "$period"
done
