#!/usr/bin/env bash
# A git server over SSH: sshd (as the unprivileged user git, port 2222) with the host key and the
# authorized deploy keys mounted under /srv/ssh, serving the repositories under /srv/git.
set -euo pipefail
for file in /srv/ssh/host_key /srv/ssh/authorized_keys; do
  [ -r "$file" ] || { echo "git-ssh-server: $file is missing: mount the host key and the authorized keys" >&2; exit 1; }
done
exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config_git
