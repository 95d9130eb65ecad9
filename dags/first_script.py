"""first_script: run the first-script image in a Kubernetes pod, in Airflow's own namespace.

The image comes from the run's conf (``{"image": "registry/first-script@sha256:..."}``), which
the dag_run stage sets to the digest it just pushed; without it, from the Airflow Variable
``first_script_image``. A private registry's pull Secrets come from the conf too
(``"image_pull_secrets": "name,name"``, the ones the airflow role keeps), never from this file.
gitSync delivers this file from the repository's ``dags/`` folder.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.cncf.kubernetes.backcompat.backwards_compat_converters import convert_image_pull_secrets
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG
from kubernetes.client import models as k8s

IMAGE = "{{ dag_run.conf.get('image') or var.value.get('first_script_image', '') }}"


class ConfPullSecretsPodOperator(KubernetesPodOperator):
    """A KubernetesPodOperator whose pod pulls with the Secrets the run's conf names (image_pull_secrets,
    comma-separated): the operator does not template that argument, so it is read here, with the templates."""

    def render_template_fields(self, context, jinja_env=None):
        super().render_template_fields(context, jinja_env)
        names = (context["dag_run"].conf or {}).get("image_pull_secrets")
        if names:
            self.image_pull_secrets = convert_image_pull_secrets(names)


with DAG(
    dag_id="first_script",
    description="Run images/first-script in a pod and show its output in the task log",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["airflow_k8s.platform"],
):
    ConfPullSecretsPodOperator(
        task_id="run_first_script",
        name="first-script",
        # No namespace: the operator uses the namespace Airflow itself runs in.
        image=IMAGE,
        cmds=["python3", "/app/first-script.py"],
        image_pull_policy="IfNotPresent",
        get_logs=True,
        on_finish_action="delete_pod",
        # When the pod fails, say why in the task log: the container's state (an image the node can't
        # pull: its waiting reason) and the pod's events; and, when the script exits non-zero, end the
        # task's error with the script's last lines (kubelet's termination message). Not the pod object:
        # a dump of it is long and shows its environment.
        log_events_on_failure=True,
        log_pod_spec_on_failure=False,
        termination_message_policy="FallbackToLogsOnError",
        security_context=k8s.V1PodSecurityContext(
            run_as_non_root=True,
            run_as_user=1001,
            run_as_group=1001,
            seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
        ),
        container_security_context=k8s.V1SecurityContext(
            run_as_non_root=True,
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=k8s.V1Capabilities(drop=["ALL"]),
        ),
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "50m", "memory": "64Mi"},
            limits={"cpu": "250m", "memory": "128Mi"},
        ),
    )
