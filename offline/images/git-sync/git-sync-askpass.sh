#!/usr/bin/env bash
# git asks this program for the HTTPS user name and password: they come from git-sync's
# environment, so they never appear in a URL, a command line or git's config.
case "${1:-}" in
  Username*) printf '%s\n' "${GITSYNC_USERNAME:-}" ;;
  *) printf '%s\n' "${GITSYNC_PASSWORD:-}" ;;
esac
