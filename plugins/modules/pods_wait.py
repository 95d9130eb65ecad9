#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.platform authors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pods_wait
short_description: Wait until the pods of a release are ready, and stop at the first container that can't start
version_added: 0.1.0
description:
  - Reads the pods that match O(label_selectors) in O(namespace) every O(interval) seconds until each is ready or
    has succeeded, until a container is stuck (one that waiting will not bring up, such as a crash loop, an image
    the node can't pull, a pod no node can take, as the airflow_k8s.platform.pod_problems filter tells them), or
    until O(timeout) seconds have passed.
  - A pod of a Deployment's older ReplicaSet (what an earlier, broken revision left, which this rollout replaces)
    is neither stuck nor waited for, so that the run that fixes a broken release does not stop at what it fixes.
  - One module run for the whole wait. An C(until) loop around M(kubernetes.core.k8s_info) starts Python and
    imports the Kubernetes client for every read, about 1.2 s of CPU each on two cores; a read here is one API
    request, so it can ask more often for less.
  - Does not fail when a container is stuck or the time runs out; RV(ready), RV(stuck) and RV(not_ready) say so,
    and the caller shows what an operator would look at before it stops (the airflow role's C(diagnose.yml)).
    It fails when the API can't be read (no kubeconfig, a context that does not exist, an API that does not
    answer).
author:
  - airflow_k8s.platform maintainers (@airflow_k8s)
attributes:
  check_mode:
    description: Can run in check mode and return a prediction of the change without making it.
    support: full
    details: It only reads, in check mode as otherwise.
  diff_mode:
    description: Would return the details of a change in diff mode.
    support: none
options:
  namespace:
    description: The namespace of the pods.
    type: str
    required: true
  label_selectors:
    description: Label selectors the pods must match, such as C(release=airflow); all of them.
    type: list
    elements: str
    default: []
  kubeconfig:
    description:
      - The kubeconfig file. Empty means the usual ones (C(KUBECONFIG), then C(~/.kube/config)), and the pod's own
        service account when the module runs inside a cluster.
    type: path
  context:
    description: The kubeconfig context; empty means its current context.
    type: str
  timeout:
    description: Seconds to wait at most.
    type: int
    default: 600
  interval:
    description: Seconds between two reads.
    type: float
    default: 2
extends_documentation_fragment:
  - airflow_k8s.platform.pod_rules
requirements:
  - kubernetes (the Python client, which kubernetes.core needs too)
notes:
  - A namespace with no matching pod yet is not ready; the wait goes on until one appears or the time runs out.
seealso:
  - plugin: airflow_k8s.platform.pod_problems
    plugin_type: filter
  - plugin: airflow_k8s.platform.pods_not_ready
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Wait for the release's pods, and stop at the first that can't start
  airflow_k8s.platform.pods_wait:
    namespace: airflow
    label_selectors: [release=airflow]
    kubeconfig: ~/.kube/config
    context: kind-airflow
    timeout: 600
  register: rollout

- name: Say which container is stuck, and why
  ansible.builtin.fail:
    msg: "{{ rollout.stuck[0].pod }}: container {{ rollout.stuck[0].container }} is {{ rollout.stuck[0].reason }}"
  when: rollout.stuck | length > 0
"""

RETURN = r"""
ready:
  description: Whether every pod was ready or had succeeded (and there was at least one).
  returned: success
  type: bool
  sample: true
stuck:
  description: The containers that waiting will not bring up, as the pod_problems filter returns them; empty unless
    the wait stopped at one.
  returned: success
  type: list
  elements: dict
  sample: [{"pod": "airflow-scheduler-0", "container": "scheduler", "init": false, "reason": "CrashLoopBackOff",
            "message": "exited 3 after 2 restarts"}]
not_ready:
  description: One line per pod neither ready nor succeeded at the last read, as the pods_not_ready filter says it.
  returned: success
  type: list
  elements: str
  sample: ["airflow-scheduler-0: Running, 1/2 ready"]
resources:
  description: The pods as the API returned them at the last read (the same objects as kubernetes.core.k8s_info's
    C(resources)).
  returned: success
  type: list
  elements: dict
elapsed:
  description: Seconds the wait took.
  returned: success
  type: float
  sample: 41.2
reads:
  description: How many times the pods were read.
  returned: success
  type: int
  sample: 21
"""

import json
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.airflow_k8s.platform.plugins.module_utils.pod_status import (
    outgoing_pods, pod_problems, pods_not_ready)

try:
    import kubernetes
    import kubernetes.client
    import kubernetes.config
    import urllib3
    HAS_KUBERNETES = True
    KUBERNETES_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_ERROR = traceback.format_exc()


def api_client(kubeconfig: str | None, context: str | None):
    """The API client as the kubeconfig (or, with none given and none found, the pod's service account) reaches it."""
    try:
        client = kubernetes.config.new_client_from_config(config_file=kubeconfig or None, context=context or None)
    except kubernetes.config.ConfigException:
        if kubeconfig or context:
            raise
        # No kubeconfig at KUBECONFIG or ~/.kube/config: inside a cluster (an AWX job's pod), its service account.
        try:
            kubernetes.config.load_incluster_config()
        except kubernetes.config.ConfigException:
            raise kubernetes.config.ConfigException(
                "there is no kubeconfig (KUBECONFIG, ~/.kube/config) and this is not a pod with a service account:"
                " give kubeconfig") from None
        client = kubernetes.client.ApiClient()
    return client


def read(listing, namespace: str, selectors: list[str]) -> list[dict]:
    # The API's own JSON, not the client's models: what k8s_info returns, and the filters read.
    answer = listing(namespace, label_selector=",".join(selectors) or None, _preload_content=False,
                     _request_timeout=30)
    return json.loads(answer.data).get("items") or []


def read_replica_sets(apps, namespace: str, selectors: list[str]) -> list[dict]:
    """The ReplicaSets, or none when this user may not list them: then every stuck pod counts, as before."""
    try:
        return read(apps.list_namespaced_replica_set, namespace, selectors)
    except kubernetes.client.exceptions.ApiException as error:
        if error.status in (401, 403):
            return []
        raise


def api_error(error) -> str:
    if isinstance(error, kubernetes.client.exceptions.ApiException):
        return f"{error.status} {error.reason}"
    return f"the API did not answer ({' '.join(str(error).split())})"


def main():
    module = AnsibleModule(
        argument_spec={
            "namespace": {"type": "str", "required": True},
            "label_selectors": {"type": "list", "elements": "str", "default": []},
            "kubeconfig": {"type": "path"},
            "context": {"type": "str"},
            "timeout": {"type": "int", "default": 600},
            "interval": {"type": "float", "default": 2},
            "failures": {"type": "int", "default": 3},
            "grace": {"type": "int", "default": 60},
            "unschedulable_grace": {"type": "int", "default": 300},
        },
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_ERROR)
    params = module.params
    started = time.monotonic()

    def no_time_for_another_read() -> bool:
        return time.monotonic() - started + params["interval"] > params["timeout"]

    try:
        client = api_client(params["kubeconfig"], params["context"])
        core, apps = kubernetes.client.CoreV1Api(client), kubernetes.client.AppsV1Api(client)
    except (kubernetes.config.ConfigException, OSError, ValueError) as error:
        module.fail_json(msg=f"Can't reach the cluster with kubeconfig {params['kubeconfig'] or '(the default)'}"
                             f" and context {params['context'] or '(its current one)'}: {error}")
    reads = 0
    while True:
        try:
            pods = read(core.list_namespaced_pod, params["namespace"], params["label_selectors"])
            stuck = pod_problems(pods, failures=params["failures"], grace=params["grace"],
                                 unschedulable_grace=params["unschedulable_grace"])
            if stuck:
                # A pod an earlier, broken revision left is no failure of this rollout, which replaces it: its
                # Deployments' ReplicaSets say which pods are outgoing (read only then: one request more, rarely).
                outgoing = outgoing_pods(pods, read_replica_sets(apps, params["namespace"], params["label_selectors"]))
                stuck = [problem for problem in stuck if problem["pod"] not in outgoing]
            else:
                outgoing = set()
        except (kubernetes.client.exceptions.ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            # The first read fails at once (a wrong address, no access); a later one is retried until the timeout:
            # the API server may be restarting under the rollout.
            if reads == 0 or no_time_for_another_read():
                module.fail_json(msg=f"Can't list the pods in namespace {params['namespace']}: {api_error(error)}")
            time.sleep(params["interval"])
            continue
        reads += 1
        not_ready = pods_not_ready([pod for pod in pods if pod["metadata"].get("name") not in outgoing])
        ready = bool(pods) and not not_ready
        if stuck or ready or no_time_for_another_read():
            module.exit_json(changed=False, ready=ready and not stuck, stuck=stuck, not_ready=not_ready,
                             resources=pods, elapsed=round(time.monotonic() - started, 1), reads=reads)
        time.sleep(params["interval"])


if __name__ == "__main__":
    main()
