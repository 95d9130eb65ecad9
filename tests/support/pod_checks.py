"""What a cluster checks on the pods a chart renders: the "restricted" Pod Security Standard, requests
and limits, and the Secrets and ConfigMaps each pod needs.

The restricted rules follow the Pod Security Standards (Kubernetes 1.35, policy version "latest"):
every check the API server's PodSecurity admission makes at that level, on the pod templates of
Deployments, StatefulSets, Jobs, CronJobs, DaemonSets and bare Pods."""

from __future__ import annotations

# Volume types the restricted profile allows.
ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                   "projected", "secret"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def pod_specs(objects):
    """(kind/name, pod spec) for every pod the objects would make."""
    for obj in objects:
        kind, name = obj.get("kind"), obj.get("metadata", {}).get("name")
        if kind in WORKLOADS:
            yield f"{kind}/{name}", obj["spec"]["template"]["spec"]
        elif kind == "CronJob":
            yield f"{kind}/{name}", obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif kind == "Pod":
            yield f"{kind}/{name}", obj["spec"]


def _containers(spec):
    for group in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(group) or []


def restricted_violations(spec):
    """Each way ``spec`` breaks the restricted Pod Security Standard, as a line naming the container."""
    found = []
    pod_context = spec.get("securityContext") or {}
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            found.append(f"{flag} is set")
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUMES:
            found.append(f"volume {volume['name']} is of type {', '.join(sorted(kinds - ALLOWED_VOLUMES))}")
    if pod_context.get("runAsUser") == 0:
        found.append("the pod runs as UID 0")
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    for container in _containers(spec):
        name = container["name"]
        context = container.get("securityContext") or {}
        if context.get("privileged"):
            found.append(f"container {name} is privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"container {name} does not set allowPrivilegeEscalation: false")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"container {name} does not drop ALL capabilities")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"container {name} adds capabilities {capabilities['add']}")
        if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
            found.append(f"container {name} does not set runAsNonRoot: true (nor does the pod)")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            found.append(f"container {name} runs as UID 0")
        seccomp = (context.get("seccompProfile") or {}).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"container {name} has no RuntimeDefault or Localhost seccomp profile (nor does the pod)")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                found.append(f"container {name} uses hostPort {port['hostPort']}")
    return found


def resource_gaps(spec):
    """Each container without CPU and memory requests and limits (a ResourceQuota may demand any of them)."""
    gaps = []
    for container in _containers(spec):
        resources = container.get("resources") or {}
        missing = [f"requests.{key}" for key in ("cpu", "memory") if key not in (resources.get("requests") or {})]
        missing += [f"limits.{key}" for key in ("cpu", "memory") if key not in (resources.get("limits") or {})]
        if missing:
            gaps.append(f"container {container['name']} has no {', '.join(missing)}")
    return gaps


def referenced(spec):
    """The (kind, name) of every Secret, ConfigMap and PersistentVolumeClaim the pod can't start without."""
    needed = set()
    for volume in spec.get("volumes") or []:
        if "persistentVolumeClaim" in volume:
            needed.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
        if "secret" in volume and not volume["secret"].get("optional"):
            needed.add(("Secret", volume["secret"]["secretName"]))
        if "configMap" in volume and not volume["configMap"].get("optional"):
            needed.add(("ConfigMap", volume["configMap"]["name"]))
        for source in (volume.get("projected") or {}).get("sources") or []:
            for kind, key in (("Secret", "secret"), ("ConfigMap", "configMap")):
                if key in source and not source[key].get("optional"):
                    needed.add((kind, source[key]["name"]))
    for container in _containers(spec):
        for env in container.get("env") or []:
            source = env.get("valueFrom") or {}
            for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                if key in source and not source[key].get("optional"):
                    needed.add((kind, source[key]["name"]))
        for env_from in container.get("envFrom") or []:
            for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                if key in env_from and not env_from[key].get("optional"):
                    needed.add((kind, env_from[key]["name"]))
    for secret in spec.get("imagePullSecrets") or []:
        needed.add(("Secret", secret["name"]))
    return needed
