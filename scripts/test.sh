#!/usr/bin/env bash
# The test command (`make test`): set up .venv, then run every check and every test.
# All stages run even when one fails, so one run shows every problem; the exit code is non-zero
# if any stage failed, and a pytest run that collected no test counts as a failure.
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
stage() {
  local name=$1 start=$SECONDS
  shift
  echo
  echo "=== $name: $*"
  "$@"
  local rc=$?
  if [ "$rc" -eq 5 ] && [ "$name" = pytest ]; then
    echo "=== pytest collected no test: that is a failure, not a pass"
  fi
  # Each stage's time, so the one that grows is seen before CI's time runs out.
  printf '=== %s took %dm%02ds\n' "$name" $(((SECONDS - start) / 60)) $(((SECONDS - start) % 60))
  [ "$rc" -eq 0 ] || failed+=("$name (exit $rc)")
}

# The checks need no cluster: they run beside pytest on the CPU and disk time the rest leaves idle
# (scripts/idle-priority.sh), so they take what the cluster tests leave while pods start (a quarter of both cores,
# measured) instead of holding up the first cluster test for ten minutes on a new machine. Their output follows
# pytest's, each with its time.
checks() {
  stage yamllint yamllint --strict .
  stage ansible-lint ansible-lint --profile production
  stage sanity scripts/sanity.sh
  printf '%s\n' "${failed[@]}" >"$checks_failed"
}
checks_log=$(mktemp)
checks_failed=$(mktemp)
checks_start=$SECONDS
echo "=== yamllint, ansible-lint and sanity: beside pytest, on idle CPU; their output follows pytest's"
scripts/idle-priority.sh bash -c "$(declare -f stage checks); $(declare -p failed checks_failed); checks" \
  >"$checks_log" 2>&1 &
checks_pid=$!
# In a session of their own, an interrupted make test would leave them running: they go with it.
trap 'kill -- -"$checks_pid" 2>/dev/null; rm -f "$checks_log" "$checks_failed"' EXIT

stage pytest pytest "$@"

wait "$checks_pid"
checks_rc=$?
echo
echo "=== the checks' output (they ended $((SECONDS - checks_start))s after they started):"
cat "$checks_log"
while IFS= read -r failure; do
  [ -z "$failure" ] || failed+=("$failure")
done <"$checks_failed"
# Killed, or failed outside a stage: the checks did not all run.
[ "$checks_rc" -eq 0 ] || failed+=("the checks (exit $checks_rc)")

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== FAILED stages: ${failed[*]}"
  exit 1
fi
echo "=== all stages passed: yamllint, ansible-lint, sanity, pytest"
