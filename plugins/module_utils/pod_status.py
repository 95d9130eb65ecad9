# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""What a list of Pod objects (as the API returns them) says about a rollout: the containers that waiting will
not bring up, and the pods not ready yet. The filters pod_problems and pods_not_ready and the pods_wait module
read pods through these."""

from __future__ import annotations

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


def _ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pods_not_ready(pods):
    lines = []
    for pod in pods or []:
        status = pod.get("status") or {}
        if status.get("phase") == "Succeeded" or _ready(pod):
            continue
        containers = status.get("containerStatuses") or []
        ready = sum(1 for c in containers if c.get("ready"))
        lines.append(f"{pod.get('metadata', {}).get('name', '')}: {status.get('phase', 'Unknown')}, "
                     f"{ready}/{len(pod.get('spec', {}).get('containers') or containers)} ready")
    return lines


def _owner(obj, kind):
    return next((ref.get("name") for ref in (obj.get("metadata") or {}).get("ownerReferences") or []
                 if ref.get("kind") == kind), None)


def outgoing_pods(pods, replica_sets):
    """The names of the pods that belong to an older ReplicaSet of their Deployment: its rollout replaces them,
    whatever state they are in, so a pod that a broken earlier revision left crash-looping is not this rollout's
    failure. ``replica_sets`` as the API returns them; the newest of a Deployment has the highest
    deployment.kubernetes.io/revision."""
    newest = {}  # Deployment -> (revision, ReplicaSet)
    deployment_of = {}
    for replica_set in replica_sets or []:
        deployment = _owner(replica_set, "Deployment")
        metadata = replica_set.get("metadata") or {}
        revision = (metadata.get("annotations") or {}).get("deployment.kubernetes.io/revision", "")
        if deployment is None or not revision.isdigit():
            continue
        deployment_of[metadata.get("name")] = deployment
        newest[deployment] = max(newest.get(deployment, (-1, "")), (int(revision), metadata.get("name")))
    current = {name for _revision, name in newest.values()}
    outgoing = set()
    for pod in pods or []:
        replica_set = _owner(pod, "ReplicaSet")
        if replica_set in deployment_of and replica_set not in current:
            outgoing.add((pod.get("metadata") or {}).get("name"))
    return outgoing
