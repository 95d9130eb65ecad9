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
    not found gets the grace: its push may be on its way).
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
  failures:
    description: How many failures in a row make a container stuck.
    type: int
    default: 3
  grace:
    description: Seconds since the pod started after which a container still waiting to be created is stuck.
    type: int
    default: 60
  unschedulable_grace:
    description: Seconds a pod may stay unschedulable before it is stuck.
    type: int
    default: 300
  now:
    description: The time to measure the pod's age against, as Kubernetes writes it (C(2026-12-02T21:02:08Z)); the
      current time when empty.
    type: str
    default: ""
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

from datetime import datetime, timezone

from ansible_collections.airflow_k8s.platform.plugins.module_utils.tool_failure import failure_kind

# Waiting reasons of a container that can't be created until its pod spec changes.
NEVER = frozenset(("InvalidImageName", "ErrImageNeverPull"))
# Waiting reasons of a container not created yet, which the kubelet retries: an image it could not pull, a Secret
# or ConfigMap it could not find. No restart is counted for them, so the pod's age tells how long it has tried.
NOT_CREATED = frozenset(("ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError", "CreateContainerError"))
PULLING = frozenset(("ErrImagePull", "ImagePullBackOff"))
# How a registry's answer reads when no retry will change it: credentials refused, a certificate not trusted.
PULL_WONT_CURE = frozenset(("refused", "tls"))


def _time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _age(pod, now):
    started = (pod.get("status") or {}).get("startTime") or pod.get("metadata", {}).get("creationTimestamp")
    return (now - _time(started)).total_seconds() if started else 0


def _how_it_failed(ended, restarts):
    """'exited 1 after 2 restarts', or, when the runtime could not start it, what the runtime said."""
    again = f" after {restarts} restart{'s' if restarts != 1 else ''}" if restarts else ""
    if ended.get("reason") == "StartError" and ended.get("message"):
        said = " ".join(ended["message"].split())
        return f"could not be started{again}: {said}"
    return f"exited {ended.get('exitCode')}{again}"


def _stuck(container, pod_failed, pod_age, failures, grace):
    """(reason, message) when this container status is one that waiting will not cure, else None."""
    state = container.get("state") or {}
    waiting = state.get("waiting") or {}
    # The exit that ended the last try: the state itself, or, while the kubelet waits to try again, the last state.
    ended = state.get("terminated") or (waiting and (container.get("lastState") or {}).get("terminated")) or {}
    restarts = container.get("restartCount", 0)
    if waiting.get("reason") in NEVER:
        return waiting["reason"], waiting.get("message", "")
    if ended.get("exitCode", 0) != 0:
        # The try that ended so was the (restarts + 1)th.
        if pod_failed or restarts + 1 >= failures:
            return waiting.get("reason") or ended.get("reason") or "Error", _how_it_failed(ended, restarts)
        return None
    if waiting.get("reason") in PULLING and _pull_wont_cure(container, waiting.get("message")):
        return waiting["reason"], waiting.get("message", "")
    if waiting.get("reason") in NOT_CREATED and pod_age >= grace:
        return waiting["reason"], waiting.get("message", "")
    return None


def _pull_wont_cure(container, message):
    """A registry's answer that no retry changes: credentials refused, a certificate not trusted, or no such
    manifest for an image pinned by digest (a push can still bring a tag, never a digest that was never pushed)."""
    kind = failure_kind(message)
    by_digest = "@sha256:" in (container.get("image") or "") or "@sha256:" in str(message or "")
    return kind in PULL_WONT_CURE or (kind == "not-found" and by_digest)


def _unschedulable(status, now, grace):
    """The scheduler's message when it has found no node for the pod for ``grace`` seconds, else None."""
    condition = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), {})
    if condition.get("status") != "False" or condition.get("reason") != "Unschedulable":
        return None
    since = condition.get("lastTransitionTime")
    if since and (now - _time(since)).total_seconds() < grace:
        return None
    return " ".join(str(condition.get("message", "")).split())


def pod_problems(pods, failures=3, grace=60, unschedulable_grace=300, now=""):
    now = _time(now) if now else datetime.now(timezone.utc)
    problems = []
    for pod in pods or []:
        name = pod.get("metadata", {}).get("name", "")
        # Since Kubernetes 1.27 a deleted pod ends in a terminal phase: Failed, if a container was killed (137).
        if pod.get("metadata", {}).get("deletionTimestamp"):
            continue
        status = pod.get("status") or {}
        unschedulable = _unschedulable(status, now, int(unschedulable_grace))
        if unschedulable is not None:
            problems.append({"pod": name, "container": "", "init": False, "reason": "Unschedulable",
                             "message": unschedulable})
            continue
        pod_failed, pod_age = status.get("phase") == "Failed", _age(pod, now)
        for init, key in ((True, "initContainerStatuses"), (False, "containerStatuses")):
            for container in status.get(key) or []:
                stuck = _stuck(container, pod_failed, pod_age, int(failures), int(grace))
                if stuck:
                    problems.append({"pod": name, "container": container.get("name", ""), "init": init,
                                     "reason": stuck[0], "message": stuck[1]})
    return problems


class FilterModule:
    def filters(self):
        return {"pod_problems": pod_problems}
