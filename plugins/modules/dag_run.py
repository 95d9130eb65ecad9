#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.platform authors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dag_run
short_description: Trigger an Apache Airflow DAG run through the REST API and wait for its result
version_added: 0.1.0
description:
  - Triggers a run of an Airflow DAG through the Airflow REST API, waits until it ends, and returns the run,
    its task instances and the log lines of the tasks you ask for.
  - Speaks the Airflow 3 API (C(/api/v2), JWT from C(POST /auth/token)) and the Airflow 2 API (C(/api/v1), HTTP
    basic auth), and finds out which one the server has by itself.
  - Right after a deployment the DAG may not be parsed yet; the module waits for it (up to O(dag_wait_timeout))
    and fails at once, with the error's text, if the DAG's file has an import error.
  - Idempotent by O(run_id). When a run with that id exists, the module attaches to it instead of triggering a
    second one, and reports no change. Without O(run_id) every call triggers a new run.
  - Waits on Airflow 3.1 and newer through the streaming C(/wait) endpoint (one request for the whole run), and
    otherwise by polling with a short first interval that backs off. The deadline O(wait_timeout) is enforced on
    the module's side either way; while the API server restarts, the module reconnects until the deadline.
  - Talks plain HTTP through Ansible's own URL library, so the target needs no Airflow client library.
  - When the run fails, the first line of the failure message names each failed task and why, read from its log
    (the first exception raised, in one line; for a pod whose script failed, the script's own error line when the
    operator reports the pod's last lines), and the last O(log_tail) log lines of each task follow.
author:
  - airflow_k8s.platform maintainers (@airflow_k8s)
attributes:
  check_mode:
    description: Can run in check mode and return a prediction of the change without making it.
    support: full
    details: Checks access, that the DAG exists, is free of import errors and can be triggered; triggers nothing.
  diff_mode:
    description: Would return the details of a change in diff mode.
    support: none
options:
  url:
    description:
      - Base URL of the Airflow API server (Airflow 3) or webserver (Airflow 2), without C(/api/...).
      - If not set, the value of the E(AIRFLOW_URL) environment variable is used.
    type: str
    required: true
  username:
    description:
      - User to log in as. On Airflow 3 the module exchanges O(username) and O(password) for a JWT; on Airflow 2
        it sends them as HTTP basic auth (C([api] auth_backends) must include a basic auth backend).
      - If not set, the value of the E(AIRFLOW_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - Password of O(username). Never logged.
      - If not set, the value of the E(AIRFLOW_PASSWORD) environment variable is used.
    type: str
  token:
    description:
      - A bearer token you already hold, used instead of O(username) and O(password). Never logged.
      - If not set, the value of the E(AIRFLOW_TOKEN) environment variable is used.
    type: str
  api_version:
    description:
      - Which REST API to use. V(auto) asks the server (C(/api/v2/version), then C(/api/v1/version)).
    type: str
    choices: [auto, v1, v2]
    default: auto
  validate_certs:
    description:
      - Verify the server's TLS certificate. Turn off only on purpose, for a server you trust by other means.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA certificate(s) that signed the server's certificate.
    type: path
  timeout:
    description:
      - Seconds to wait for any single HTTP answer (one line of the C(/wait) stream included).
    type: int
    default: 30
  dag_id:
    description:
      - The DAG to trigger.
    type: str
    required: true
  run_id:
    description:
      - Id of the run. When a run with this id exists, the module attaches to it instead of triggering another.
      - Airflow accepts letters, digits and the characters C(_.~:+-). Without it, Airflow makes one up (C(manual__<time>)).
    type: str
  conf:
    description:
      - The run's configuration, available to tasks as C(dag_run.conf). A mapping, or a JSON object as text.
    type: raw
  note:
    description:
      - A note stored with the run, shown in the Airflow UI.
    type: str
  logical_date:
    description:
      - The run's logical date, ISO 8601 with a time zone (C(2026-01-01T00:00:00+00:00)).
      - Unset, Airflow 3 runs without a logical date and Airflow 2 uses the time of the trigger.
    type: str
  unpause:
    description:
      - Unpause the DAG if it is paused (reported as a change). When V(false), a paused DAG fails the task,
        because a run of a paused DAG waits forever.
    type: bool
    default: false
  rerun_failed:
    description:
      - When the run with O(run_id) exists and ended in one of O(failure_states), run it again under the same id
        (reported as a change). Its failed tasks, and the tasks their failure kept from running, are cleared, so
        the scheduler runs them again, then the module waits as for a new run. Tasks that succeeded keep their
        result. This is how a run that failed for a cause since fixed (an image, a DAG, a connection) gets
        another go without a new O(run_id).
      - The run keeps its first O(conf); O(conf), O(note) and O(logical_date) of this call are not applied to it.
      - When V(false), a call with the id of a failed run attaches to it and reports its failure again.
    type: bool
    default: false
  wait:
    description:
      - Wait for the run to reach one of O(success_states) or O(failure_states). When V(false), return right after
        the trigger with the run's first state.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the run to end. On timeout the task fails with the run id, so a later call with
        O(run_id) can attach to the same run.
    type: int
    default: 1800
  dag_wait_timeout:
    description:
      - Seconds to wait for the DAG to appear (gitSync and the DAG processor need time after a deployment).
    type: int
    default: 300
  poll_interval:
    description:
      - Seconds between state checks. With the C(/wait) stream this is the server's check interval; when polling,
        the first interval, which then grows by half each time up to 10 seconds.
    type: float
    default: 0.5
  success_states:
    description:
      - Run states that end the wait successfully.
    type: list
    elements: str
    choices: [queued, running, success, failed]
    default: [success]
  failure_states:
    description:
      - Run states that end the wait and fail the task, naming the failed tasks and showing their last log lines.
    type: list
    elements: str
    choices: [queued, running, success, failed]
    default: [failed]
  log_tasks:
    description:
      - Task ids whose log lines to return in RV(logs); V(*) means every task that ran.
      - Unset, the logs of failed tasks are returned.
    type: list
    elements: str
  log_tail:
    description:
      - How many of the last log lines of each failed task to put in the failure message.
    type: int
    default: 20
notes:
  - The module never creates two runs for one call. Without O(run_id) it is not idempotent, like any trigger.
  - On Airflow 3 the structured task log is returned as plain lines, C([timestamp] LEVEL - text).
  - Secrets (O(password), O(token)) are marked C(no_log) and never appear in messages.
seealso:
  - name: Airflow REST API
    description: The API this module calls.
    link: https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html
"""

EXAMPLES = r"""
- name: Run first_script with the image we just pushed, and wait for it
  airflow_k8s.platform.dag_run:
    url: "{{ airflow_api_url }}"
    username: "{{ airflow_admin_username }}"
    password: "{{ airflow_admin_password }}"
    dag_id: first_script
    run_id: "{{ image_ref | airflow_k8s.platform.image_run_id }}"
    conf:
      image: "{{ image_ref }}"
    unpause: true
    log_tasks: ["*"]
  register: first_script_run

- name: Show what the pod printed
  ansible.builtin.debug:
    var: first_script_run.logs

- name: Trigger without waiting, on an Airflow 2 webserver with basic auth
  airflow_k8s.platform.dag_run:
    url: https://airflow2.example.com
    username: ops
    password: "{{ vault_airflow_password }}"
    dag_id: nightly_export
    wait: false

- name: Run a failed run's failed tasks again under the same id, now that their image is fixed
  airflow_k8s.platform.dag_run:
    url: "{{ airflow_api_url }}"
    username: "{{ airflow_admin_username }}"
    password: "{{ airflow_admin_password }}"
    dag_id: first_script
    run_id: "{{ image_ref | airflow_k8s.platform.image_run_id }}"
    rerun_failed: true

- name: Check that a DAG is deployed and can be triggered, without triggering it
  airflow_k8s.platform.dag_run:
    url: "{{ airflow_api_url }}"
    token: "{{ airflow_token }}"
    dag_id: first_script
  check_mode: true
"""

RETURN = r"""
run:
  description: The run as Airflow reports it at the end.
  returned: when a run was triggered or attached to
  type: dict
  contains:
    dag_id:
      description: The DAG's id.
      type: str
      sample: first_script
    run_id:
      description: The run's id; pass it as O(run_id) to attach to this run later.
      type: str
      sample: image-3f2a9c1b7d4e5f60
    state:
      description: The run's state, one of C(queued), C(running), C(success), C(failed).
      type: str
      sample: success
    run_type:
      description: How the run was created (C(manual) for API triggers).
      type: str
      sample: manual
    logical_date:
      description: The run's logical date, or null.
      type: str
      sample: null
    queued_at:
      description: When the run was queued.
      type: str
      sample: "2026-11-26T11:38:08.750500Z"
    start_date:
      description: When the run started.
      type: str
      sample: "2026-11-26T11:38:09.102000Z"
    end_date:
      description: When the run ended, or null while it runs.
      type: str
      sample: "2026-11-26T11:38:14.522258Z"
    duration:
      description: Seconds from start to end (Airflow 3), or null.
      type: float
      sample: 5.42
    conf:
      description: The run's configuration.
      type: dict
      sample: {"image": "registry:5000/first-script@sha256:..."}
    note:
      description: The run's note.
      type: str
      sample: from ansible
task_instances:
  description: The run's task instances.
  returned: when a run was triggered or attached to
  type: list
  elements: dict
  contains:
    task_id:
      description: The task's id.
      type: str
      sample: run_first_script
    map_index:
      description: Index of a mapped task instance, -1 when not mapped.
      type: int
      sample: -1
    state:
      description: The task instance's state (C(success), C(failed), C(upstream_failed), C(skipped), ...).
      type: str
      sample: success
    try_number:
      description: The latest try; 0 if the task never ran.
      type: int
      sample: 1
    duration:
      description: Seconds the latest try took.
      type: float
      sample: 3.2
    start_date:
      description: When the latest try started.
      type: str
      sample: "2026-11-26T11:38:10.000000Z"
    end_date:
      description: When the latest try ended.
      type: str
      sample: "2026-11-26T11:38:13.200000Z"
    operator:
      description: The operator's class name.
      type: str
      sample: KubernetesPodOperator
logs:
  description: Log lines of the latest try of each task asked for in O(log_tasks) (default, the failed ones).
  returned: when a run was triggered or attached to
  type: dict
  sample: {"run_first_script": ["[2026-11-26T11:38:12Z] INFO - Hello from kubernetes!!!"]}
triggered:
  description: Whether this call triggered a new run (false when it attached to an existing one).
  returned: always
  type: bool
  sample: true
rerun:
  description: Whether this call ran a failed run again under its id (O(rerun_failed)).
  returned: always
  type: bool
  sample: false
unpaused:
  description: Whether this call unpaused the DAG.
  returned: always
  type: bool
  sample: false
api_version:
  description: The REST API used, C(v2) (Airflow 3) or C(v1) (Airflow 2).
  returned: when the server answered
  type: str
  sample: v2
airflow_version:
  description: The Airflow version the server reports.
  returned: when the server answered
  type: str
  sample: 3.3.2
ui_url:
  description: The run's page in the Airflow UI.
  returned: when a run was triggered or attached to
  type: str
  sample: http://127.0.0.1:8080/dags/first_script/runs/image-3f2a9c1b7d4e5f60
import_error:
  description: The import error that stopped the DAG from loading.
  returned: when the DAG's file has an import error
  type: dict
  sample: {"filename": "broken.py", "stack_trace": "Traceback ...\nModuleNotFoundError: No module named 'nope'"}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.airflow_k8s.platform.plugins.module_utils.airflow_api import AirflowClient, AirflowError
from ansible_collections.airflow_k8s.platform.plugins.module_utils.dag_runner import DagRunner

RUN_STATES = ["queued", "running", "success", "failed"]


def argument_spec():
    return dict(
        url=dict(type="str", required=True, fallback=(env_fallback, ["AIRFLOW_URL"])),
        username=dict(type="str", fallback=(env_fallback, ["AIRFLOW_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["AIRFLOW_PASSWORD"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["AIRFLOW_TOKEN"])),
        api_version=dict(type="str", choices=["auto", "v1", "v2"], default="auto"),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="int", default=30),
        dag_id=dict(type="str", required=True),
        run_id=dict(type="str"),
        conf=dict(type="raw"),
        note=dict(type="str"),
        logical_date=dict(type="str"),
        unpause=dict(type="bool", default=False),
        rerun_failed=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        dag_wait_timeout=dict(type="int", default=300),
        poll_interval=dict(type="float", default=0.5),
        success_states=dict(type="list", elements="str", choices=RUN_STATES, default=["success"]),
        failure_states=dict(type="list", elements="str", choices=RUN_STATES, default=["failed"]),
        log_tasks=dict(type="list", elements="str"),
        log_tail=dict(type="int", default=20),
    )


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("token", "username"), ("token", "password")],
        required_together=[("username", "password")],
        required_one_of=[("token", "username")],
        supports_check_mode=True,
    )
    p = module.params
    client = AirflowClient(p["url"], username=p["username"], password=p["password"], token=p["token"],
                           validate_certs=p["validate_certs"], ca_path=p["ca_path"], timeout=p["timeout"],
                           api_version=p["api_version"])
    runner = DagRunner(client, p, check_mode=module.check_mode)
    try:
        result = runner.run()
    except AirflowError as error:
        extra = dict(getattr(error, "result", None) or runner.result)
        if error.status is not None:
            extra["status"] = error.status
        module.fail_json(msg=str(error), changed=runner.changed, **extra)
    except Exception as error:  # pylint: disable=broad-except
        # A bug of ours or an answer nobody foresaw: one line for the user, the traceback in
        # `exception` rather than a bare MODULE FAILURE.
        module.fail_json(msg="dag_run stopped on an unexpected error: %s: %s (please report it with its traceback: "
                             "ANSIBLE_DISPLAY_TRACEBACK=error shows it, -vvv before ansible-core 2.19)"
                             % (type(error).__name__, error),
                         changed=runner.changed, exception=traceback.format_exc(), **runner.result)
    module.exit_json(changed=runner.changed, **result)


if __name__ == "__main__":
    main()
