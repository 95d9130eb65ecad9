"""The filters the airflow role's wait uses, on pod and event objects shaped as the API returns them."""

from __future__ import annotations

from ansible_collections.airflow_k8s.platform.plugins.filter.event_lines import event_lines
from ansible_collections.airflow_k8s.platform.plugins.filter.pod_problems import pod_problems
from ansible_collections.airflow_k8s.platform.plugins.filter.pods_not_ready import pods_not_ready
from ansible_collections.airflow_k8s.platform.plugins.filter.secret_problems import secret_problems


def pod(name, phase="Running", ready=True, init=(), containers=()):
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": c["name"]} for c in containers] or [{"name": "main"}]},
            "status": {"phase": phase,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "initContainerStatuses": list(init), "containerStatuses": list(containers)}}


def waiting(name, reason, message="", last_exit=None):
    status = {"name": name, "ready": False, "state": {"waiting": {"reason": reason, "message": message}}}
    if last_exit is not None:
        status["lastState"] = {"terminated": {"exitCode": last_exit}}
    return status


class TestPodProblems:
    def test_an_image_the_node_cannot_pull(self):
        problems = pod_problems([pod("scheduler-0", "Pending", False, containers=[
            waiting("scheduler", "ErrImagePull", "failed to resolve reference \"x\": not found")])])
        assert problems == [{"pod": "scheduler-0", "container": "scheduler", "init": False, "reason": "ErrImagePull",
                             "message": "failed to resolve reference \"x\": not found"}]

    def test_a_crash_looping_init_container_says_how_it_exited(self):
        problems = pod_problems([pod("scheduler-0", "Pending", False,
                                     init=[waiting("git-sync-init", "CrashLoopBackOff", last_exit=1)])])
        assert problems == [{"pod": "scheduler-0", "container": "git-sync-init", "init": True,
                             "reason": "CrashLoopBackOff", "message": "exited 1"}]

    def test_a_crash_loop_in_its_back_off_shown_as_the_exit(self):
        # As kind showed a gitSync branch that does not exist: the init container's state stays at the exit
        # for the whole back-off; only the restart count says it already failed before.
        init = {"name": "git-sync-init", "restartCount": 4,
                "state": {"terminated": {"exitCode": 1, "reason": "Error"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}
        problems = pod_problems([pod("scheduler-0", "Pending", False, init=[init])])
        assert problems == [{"pod": "scheduler-0", "container": "git-sync-init", "init": True,
                             "reason": "Error", "message": "exited 1 after 4 restarts"}]

    def test_one_failure_with_a_restart_to_come_is_no_problem_yet(self):
        first = {"name": "git-sync-init", "restartCount": 0, "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
        done = {"name": "wait-for-migrations", "restartCount": 2, "state": {"terminated": {"exitCode": 0}}}
        assert pod_problems([pod("scheduler-0", "Pending", False, init=[first, done])]) == []

    def test_a_failed_job_pod(self):
        failed = pod("migrate-x", "Failed", False, containers=[
            {"name": "run-airflow-migrations", "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}])
        assert pod_problems([failed])[0]["message"] == "exited 2"

    def test_a_pod_being_deleted_is_no_problem(self):
        # What a rollout leaves while it replaces a pod: its git-sync killed at the end of the grace period.
        old = pod("scheduler-old", "Failed", False, containers=[
            {"name": "git-sync", "state": {"terminated": {"exitCode": 137, "reason": "Error"}}}])
        old["metadata"]["deletionTimestamp"] = "2026-11-27T12:00:00Z"
        assert pod_problems([old]) == []
        assert pods_not_ready([old]) == ["scheduler-old: Failed, 0/1 ready"]

    def test_still_starting_is_no_problem(self):
        assert pod_problems([pod("api-0", "Pending", False, containers=[waiting("api", "ContainerCreating")]),
                             pod("api-1"), {"metadata": {"name": "bare"}}]) == []


def test_pods_not_ready_skips_ready_and_finished_pods():
    lines = pods_not_ready([pod("ready"), pod("done", "Succeeded", False),
                            pod("waiting", "Pending", False, containers=[waiting("c", "PodInitializing")])])
    assert lines == ["waiting: Pending, 0/1 ready"]


def test_event_lines_are_the_most_recent_oldest_first():
    events = [{"reason": "Pulled", "message": "pulled", "lastTimestamp": "2026-01-01T00:00:02Z",
               "involvedObject": {"kind": "Pod", "name": "a"}},
              {"reason": "Failed", "message": "boom\n  twice", "eventTime": "2026-01-01T00:00:03Z",
               "involvedObject": {"kind": "Pod", "name": "b"}},
              {"reason": "Scheduled", "message": "old", "lastTimestamp": "2026-01-01T00:00:01Z",
               "involvedObject": {"kind": "Pod", "name": "c"}}]
    assert event_lines(events, 2) == ["Pulled Pod/a: pulled", "Failed Pod/b: boom twice"]


def test_stale_statefulset_pods_are_old_revisions_that_are_not_ready():
    from ansible_collections.airflow_k8s.platform.plugins.filter.stale_statefulset_pods import stale_statefulset_pods

    def owned(name, revision, ready):
        member = pod(name, ready=ready)
        member["metadata"].update(labels={"controller-revision-hash": revision},
                                  ownerReferences=[{"kind": "StatefulSet", "name": "scheduler"}])
        return member

    statefulsets = [{"metadata": {"name": "scheduler"}, "status": {"updateRevision": "new"}}]
    pods = [owned("broken-old", "old", False), owned("fine-old", "old", True), owned("starting-new", "new", False),
            pod("deployment-pod", ready=False)]
    assert stale_statefulset_pods(pods, statefulsets) == ["broken-old"]


class TestSecretProblems:
    NEEDED = {"variable": "airflow_git_ssh_key_secret", "name": "git-ssh", "keys": ["gitSshKey"]}

    def test_a_secret_with_its_keys_is_no_problem(self):
        found = {"item": self.NEEDED, "resources": [{"data": {"gitSshKey": "c2VjcmV0"}}]}
        assert secret_problems([found], "airflow") == []

    def test_a_missing_secret_and_a_missing_key_each_get_a_line_without_the_data(self):
        missing = {"item": self.NEEDED, "resources": []}
        keyless = {"item": {"variable": "airflow_database_secret", "name": "db", "keys": ["connection"]},
                   "resources": [{"data": {"url": "cG9zdGdyZXM6Ly9zZWNyZXQ="}}]}
        assert secret_problems([missing, keyless], "airflow") == [
            "Secret git-ssh (airflow_git_ssh_key_secret) is not in namespace airflow: create it there with the keys "
            "gitSshKey before installing, or fix airflow_git_ssh_key_secret",
            "Secret db (airflow_database_secret) has no key connection: create it there with the keys connection "
            "before installing, or fix airflow_database_secret",
        ]
