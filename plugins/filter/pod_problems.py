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
    container included, that is stuck in a state that waiting will not cure, such as an image the node can't pull,
    a crash loop, or a missing Secret or ConfigMap; per container that exited non-zero again after a restart;
    and per container of a failed pod that exited non-zero.
  - A crash loop is not always shown as one. Between restarts the kubelet may leave a container's state at the
    exit that ended it (measured on kind for a failing init container, C(terminated) for the whole back-off and
    C(waiting) with reason C(CrashLoopBackOff) for about a second before each new try), so a container that
    exited non-zero after at least one restart counts too. One failure with nothing after it does not,
    a single restart may cure a passing fault.
  - A wait loop stops at the first entry and names the pod, the container and the reason instead of timing out.
  - A pod that is being deleted is left out. A rollout's old pod, or one of a release just uninstalled, ends with
    phase Failed when a container of it is killed at the end of its grace period, and that is no fault.
positional: _input
options:
  _input:
    description: Pod objects.
    type: list
    elements: dict
    required: true
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
      description: Kubernetes' reason, such as ImagePullBackOff, CrashLoopBackOff or Error.
      type: str
    message:
      description: Kubernetes' message for it, or the exit code.
      type: str
"""

# Waiting reasons that another minute will not cure.
STUCK = frozenset(("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff",
                   "CreateContainerConfigError", "CreateContainerError", "RunContainerError"))


def _problem(pod, status, init, reason, message):
    return {"pod": pod, "container": status.get("name", ""), "init": init, "reason": reason, "message": message}


def pod_problems(pods):
    problems = []
    for pod in pods or []:
        name = pod.get("metadata", {}).get("name", "")
        # Since Kubernetes 1.27 a deleted pod ends in a terminal phase: Failed, if a container was killed (137).
        if pod.get("metadata", {}).get("deletionTimestamp"):
            continue
        status = pod.get("status") or {}
        failed = status.get("phase") == "Failed"
        for init, key in ((True, "initContainerStatuses"), (False, "containerStatuses")):
            for container in status.get(key) or []:
                state = container.get("state") or {}
                waiting = state.get("waiting") or {}
                terminated = state.get("terminated") or {}
                if waiting.get("reason") in STUCK:
                    last = (container.get("lastState") or {}).get("terminated") or {}
                    # A crash loop's message is kubelet's back-off notice; how it exited says more.
                    detail = f"exited {last['exitCode']}" if "exitCode" in last else waiting.get("message") or ""
                    problems.append(_problem(name, container, init, waiting["reason"], detail))
                elif terminated.get("exitCode", 0) != 0 and (failed or container.get("restartCount", 0) > 0):
                    # A restarted container that failed again is a crash loop in its back-off.
                    restarts = container.get("restartCount", 0)
                    again = f" after {restarts} restart{'s' if restarts > 1 else ''}" if restarts else ""
                    problems.append(_problem(name, container, init, terminated.get("reason") or "Error",
                                             f"exited {terminated['exitCode']}{again}"))
    return problems


class FilterModule:
    def filters(self):
        return {"pod_problems": pod_problems}
