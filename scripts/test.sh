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

stage yamllint yamllint --strict .
stage ansible-lint ansible-lint --profile production
stage sanity scripts/sanity.sh
stage pytest pytest "$@"

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== FAILED stages: ${failed[*]}"
  exit 1
fi
echo "=== all stages passed: yamllint, ansible-lint, sanity, pytest"
