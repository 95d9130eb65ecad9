# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)

# The options of the rules that tell a container that waiting will not bring up (module_utils/pod_status.py), for
# the pod_problems filter and the pods_wait module, which read pods through them. Private to this collection.

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  failures:
    description: How many failed tries in a row make a container stuck (its program exited non-zero, or the runtime
      could not start it).
    type: int
    default: 3
  grace:
    description: Seconds since the pod started after which a container still waiting to be created (an image pull, a
      missing Secret or ConfigMap) is stuck.
    type: int
    default: 60
  unschedulable_grace:
    description: Seconds a pod may stay unschedulable before it is stuck.
    type: int
    default: 300
"""
