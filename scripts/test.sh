#!/usr/bin/env bash
# The test command (`make test`): set up .venv, then run every check and every test.
# All stages run even when one fails, so one run shows every problem; the exit code is non-zero
# if any stage failed, and a pytest run that collected no test counts as a failure.
#
# The tests run as two pytests at once: the demo's and the stand-in's clusters' groups (BESIDE) from the start,
# their lines marked "[demo+standin]", and everything else after the checks (tests/support/groups.py). A cluster
# test mostly waits on pods, so two clusters side by side take little more than the longer one alone (the shared
# cluster's tests took 31 minutes beside the demo's, ~28 alone; the demo's 22m41s beside them, 22m53s alone), where
# one after the other CI had no room left. Arguments go to both pytests; one whose groups have no test that the
# arguments select is fine as long as the other ran some.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

scripts/venv.sh tests/requirements.txt || exit 1
export PATH="$PWD/.venv/bin:$PATH"
# Molecule and ansible-lint call ansible-config and ansible-playbook from PATH: the venv's own.
export ANSIBLE_CONFIG="$PWD/ansible.cfg"

# The collections collections/requirements.yml pins (awx.awx for the AWX playbook) where
# ansible.cfg's collections_path finds them, as `ansible-galaxy collection install` would put them.
scripts/collections.sh || exit 1

failed=()
# Each stage's time, so the one that grows is seen before CI's time runs out; its exit code goes to the caller.
stage() {
  local name=$1 start=$SECONDS
  shift
  echo
  echo "=== $name: $*"
  "$@"
  local rc=$?
  printf '=== %s took %dm%02ds\n' "$name" $(((SECONDS - start) / 60)) $(((SECONDS - start) % 60))
  return "$rc"
}
check() {
  stage "$@" || failed+=("$1 (exit $?)")
}

# The beside pytest's exit code comes back through a file: it runs in a background subshell.
beside_rc_file=$(mktemp)
beside_pid=""
# Stopped early (Ctrl-C, a timeout), the front pytest takes the beside one with it: its process group (set -m gives
# it one). What its clusters leave, scripts/remove-test-leftovers.sh removes.
trap '[ -z "$beside_pid" ] || kill -TERM -- "-$beside_pid" 2>/dev/null; rm -f "$beside_rc_file"' EXIT
beside() {
  stage "pytest --groups $BESIDE" pytest --groups "$BESIDE" "$@" 2>&1 | sed -u 's/^/[demo+standin] /'
  echo "${PIPESTATUS[0]}" >"$beside_rc_file"
}
BESIDE=demo,standin
FRONT=no-cluster,shared_cluster,own-clusters
set -m
beside "$@" &
beside_pid=$!
set +m

check yamllint yamllint --strict .
check ansible-lint ansible-lint --profile production
check sanity scripts/sanity.sh
front_rc=0
stage "pytest --groups $FRONT" pytest --groups "$FRONT" "$@" || front_rc=$?
wait "$beside_pid"
beside_pid=""
beside_rc=$(cat "$beside_rc_file")
# Exit code 5 is a pytest that collected no test: a failure, unless the arguments selected tests of the other
# pytest's groups only and that one ran them.
for lane in "$FRONT:$front_rc:$beside_rc" "$BESIDE:$beside_rc:$front_rc"; do
  IFS=: read -r groups rc other_rc <<<"$lane"
  if [ "$rc" -eq 5 ] && [ "$other_rc" -ne 5 ]; then
    continue
  elif [ "$rc" -eq 5 ]; then
    echo "=== pytest --groups $groups collected no test: that is a failure, not a pass"
  fi
  [ "$rc" -eq 0 ] || failed+=("pytest --groups $groups (exit $rc)")
done

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== FAILED stages: ${failed[*]}"
  exit 1
fi
echo "=== all stages passed: yamllint, ansible-lint, sanity, pytest (both)"
