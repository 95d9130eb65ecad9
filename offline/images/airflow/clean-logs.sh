#!/usr/bin/env bash
# The chart's log groomer sidecars run "bash /clean-logs", as the official image has it: every
# AIRFLOW__LOG_CLEANUP_FREQUENCY_MINUTES, delete the task logs older than the retention
# (AIRFLOW__LOG_RETENTION_DAYS plus _MINUTES) and, while the folder is larger than
# AIRFLOW__LOG_MAX_SIZE_BYTES (when set), the oldest ones.
set -euo pipefail

directory=${AIRFLOW_HOME:-/opt/airflow}/logs
retention=$((${AIRFLOW__LOG_RETENTION_DAYS:-15} * 1440 + ${AIRFLOW__LOG_RETENTION_MINUTES:-0}))
every=${AIRFLOW__LOG_CLEANUP_FREQUENCY_MINUTES:-15}
max_size=${AIRFLOW__LOG_MAX_SIZE_BYTES:-0}

echo "clean-logs: every ${every} minutes, deleting logs in ${directory} older than ${retention} minutes"
while true; do
  find "$directory" -type f -name '*.log' -mmin +"$retention" -delete 2>/dev/null || true
  find "$directory" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  if [ "$max_size" -gt 0 ]; then
    while [ "$(du -sb "$directory" | cut -f1)" -gt "$max_size" ]; do
      oldest=$(find "$directory" -type f -name '*.log' -printf '%T@ %p\n' | sort -n | head -n 1 | cut -d' ' -f2-)
      [ -n "$oldest" ] || break
      rm -f "$oldest"
    done
  fi
  sleep $((every * 60))
done
