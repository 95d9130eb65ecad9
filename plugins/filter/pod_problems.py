# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""The pods that can't start and why: what a wait should stop at instead of timing out."""

from __future__ import annotations

DOCUMENTATION = r"""
name: pod_problems
author: airflow_k8s.platform maintainers
short_description: The containers of a list of pods that can't start, and why
description:
  - Takes Pod objects (the C(resources) of M(kubernetes.core.k8s_info)) and returns one entry per container, init
    container included, that waiting will not bring up, so that a wait loop can stop at the first one, naming the
    pod, the container and the reason, instead of timing out.
  - A fault that persists is told from one that a retry cures by what the kubelet reports. A container that failed
    O(failures) times in a row (its program exited non-zero, or the runtime could not start it) is stuck. The
    kubelet's back-off between tries doubles each time, and one or two failures while volumes or dependencies come
    up are what a retry cures (measured on kind, cgroup v1, a busy host, runc failed to start 21 of 240 containers
    with C(unable to freeze), exit 128, and each ran on a later try). A container of a failed pod that exited
    non-zero is stuck at once, since nothing restarts it.
  - A container that waits to be created (an image it can't pull, a Secret or ConfigMap that is missing) is stuck
    once its pod has been trying for O(grace) seconds; an image name that is not valid, at once, and so is an image
    pull that the registry refused (401 or 403, its credentials) or whose TLS this node does not trust (x509), and
    an image pinned by digest that the registry does not have, since none of these cures itself by waiting (a tag
    not found gets the grace, as its push may be on its way).
  - A crash loop is not always shown as one. Between restarts the kubelet may leave a container's state at the
    exit that ended it (measured on kind for a failing init container, C(terminated) for the whole back-off and
    C(waiting) with reason C(CrashLoopBackOff) for about a second before each new try); the restart count says how
    many tries came before, either way.
  - A pod the scheduler can place on no node (not enough CPU or memory for its requests, a node selector or taint
    nothing matches) is stuck once it has been unschedulable for O(unschedulable_grace) seconds, named with the
    scheduler's own reason; a shorter wait leaves time for a cluster autoscaler to add a node.
  - A pod that is being deleted is left out. A rollout's old pod, or one of a release just uninstalled, ends with
    phase Failed when a container of it is killed at the end of its grace period, and that is no fault.
positional: _input
options:
  _input:
    description: Pod objects.
    type: list
    elements: dict
    required: true
  now:
    description: The time to measure the pod's age against, as Kubernetes writes it (C(2026-12-02T21:02:08Z)); the
      current time when empty.
    type: str
    default: ""
extends_documentation_fragment:
  - airflow_k8s.platform.pod_rules
"""

EXAMPLES = r"""
- name: Wait for the pods, and stop at the first that can't start
  kubernetes.core.k8s_info:
    kind: Pod
    namespace: airflow
  register: pods
  until: pods.resources | airflow_k8s.platform.pod_problems | length > 0
"""

RETURN = r"""
_value:
  description: One entry per stuck container, in pod and container order.
  type: list
  elements: dict
  contains:
    pod:
      description: The pod's name.
      type: str
    container:
      description: The container's name.
      type: str
    init:
      description: Whether it is an init container.
      type: bool
    reason:
      description: Kubernetes' reason, such as ImagePullBackOff, CrashLoopBackOff, RunContainerError, Error or
        Unschedulable (then the container is empty).
      type: str
    message:
      description: How it failed, such as C(exited 1 after 2 restarts), or the runtime's or kubelet's own message.
      type: str
"""

from ansible_collections.airflow_k8s.platform.plugins.module_utils.pod_status import pod_problems


class FilterModule:
    def filters(self):
        return {"pod_problems": pod_problems}
