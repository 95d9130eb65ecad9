#!/usr/bin/env bash
# The main job (`make demo`): set up .venv with the control node's requirements, then run
# site.yml on the local kind inventory. Extra arguments go to ansible-playbook (e.g. -v, --check).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/venv.sh requirements.txt
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
exec ansible-playbook site.yml -i "${INVENTORY:-inventories/kind}" "$@"
