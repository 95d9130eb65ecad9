"""The filters the airflow role's wait uses, on pod and event objects shaped as the API returns them; pods/ holds
pod objects read from a real kind cluster (metadata and status as k8s_info returns them, the spec left out)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.airflow_k8s.platform.plugins.filter.event_lines import event_lines
from ansible_collections.airflow_k8s.platform.plugins.filter.pod_problems import pod_problems
from ansible_collections.airflow_k8s.platform.plugins.filter.pods_not_ready import pods_not_ready
from ansible_collections.airflow_k8s.platform.plugins.filter.secret_problems import secret_problems
from ansible_collections.airflow_k8s.platform.plugins.module_utils.pod_status import outgoing_pods


def pod(name, phase="Running", ready=True, init=(), containers=()):
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": c["name"]} for c in containers] or [{"name": "main"}]},
            "status": {"phase": phase,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "initContainerStatuses": list(init), "containerStatuses": list(containers)}}


def waiting(name, reason, message="", last_exit=None, restarts=0):
    status = {"name": name, "ready": False, "restartCount": restarts,
              "state": {"waiting": {"reason": reason, "message": message}}}
    if last_exit is not None:
        status["lastState"] = {"terminated": {"exitCode": last_exit, "reason": "Error"}}
    return status


def seen(name):
    """The states a pod went through on a kind cluster, each as one poll of the wait read it."""
    return json.loads((Path(__file__).parent / "pods" / f"{name}.json").read_text())


class TestPodProblems:
    # A pod's age when the test does not care: long past the grace for containers not yet created.
    LATER = "2030-01-01T00:00:00Z"

    def test_an_image_the_node_cannot_pull_once_its_pod_has_tried_for_a_minute(self):
        started = pod("scheduler-0", "Pending", False, containers=[
            waiting("scheduler", "ErrImagePull", "failed to resolve reference \"x\": not found")])
        started["status"]["startTime"] = "2026-12-02T21:00:00Z"
        assert pod_problems([started], now="2026-12-02T21:00:59Z") == []
        assert pod_problems([started], now="2026-12-02T21:01:00Z") == [
            {"pod": "scheduler-0", "container": "scheduler", "init": False, "reason": "ErrImagePull",
             "message": "failed to resolve reference \"x\": not found"}]

    @pytest.mark.parametrize("message", [
        # What the kubelet said on the stand-in cluster (tests/support/standin.py): a pull Secret with a wrong
        # password, and a registry whose CA the nodes were never given.
        'failed to pull and unpack image "registry.standin.test:5000/mirror/airflow@sha256:70ae": failed to resolve'
        ' reference "registry.standin.test:5000/mirror/airflow@sha256:70ae": unexpected status from HEAD request to'
        ' https://registry.standin.test:5000/v2/mirror/airflow/manifests/sha256:70ae: 401 Unauthorized',
        'failed to pull and unpack image "registry-untrusted.standin.test:5000/data-team/first-script@sha256:7041":'
        ' failed to resolve reference "registry-untrusted.standin.test:5000/data-team/first-script@sha256:7041":'
        ' failed to do request: Head "https://registry-untrusted.standin.test:5000/v2/data-team/first-script/'
        'manifests/sha256:7041": tls: failed to verify certificate: x509: certificate signed by unknown authority',
    ])
    def test_a_pull_the_registry_refused_or_the_node_does_not_trust_at_once(self, message):
        started = pod("api-0", "Pending", False, init=[waiting("wait-for-airflow-migrations", "ErrImagePull", message)])
        started["status"]["startTime"] = "2026-12-02T21:00:00Z"
        assert pod_problems([started], now="2026-12-02T21:00:05Z") == [
            {"pod": "api-0", "container": "wait-for-airflow-migrations", "init": True, "reason": "ErrImagePull",
             "message": message}]
        # In the back-off between tries it is the same answer.
        started["status"]["initContainerStatuses"] = [waiting("wait-for-airflow-migrations", "ImagePullBackOff",
                                                              "Back-off pulling image: ErrImagePull: " + message)]
        assert pod_problems([started], now="2026-12-02T21:00:05Z")[0]["reason"] == "ImagePullBackOff"

    def test_an_image_by_digest_the_registry_does_not_have_at_once_and_by_tag_after_the_grace(self):
        # What the kubelet said on kind for the airflow image at a digest never pushed (test_airflow_on_kind).
        missing = ('failed to pull and unpack image "localhost:5001/airflow:3.3.2@sha256:0000": failed to resolve'
                   ' reference "localhost:5001/airflow:3.3.2@sha256:0000": localhost:5001/airflow:3.3.2@sha256:0000:'
                   ' not found')
        started = pod("api-0", "Pending", False, containers=[waiting("api", "ErrImagePull", missing)])
        started["status"]["startTime"] = "2026-12-02T21:00:00Z"
        assert pod_problems([started], now="2026-12-02T21:00:05Z") == [
            {"pod": "api-0", "container": "api", "init": False, "reason": "ErrImagePull", "message": missing}]
        # A tag the registry does not have yet may be pushed in a moment: the grace, as for any other pull.
        by_tag = missing.replace("@sha256:0000", "")
        started["status"]["containerStatuses"] = [waiting("api", "ErrImagePull", by_tag)]
        started["status"]["containerStatuses"][0]["image"] = "localhost:5001/airflow:3.3.2"
        assert pod_problems([started], now="2026-12-02T21:00:05Z") == []
        assert len(pod_problems([started], now="2026-12-02T21:01:00Z")) == 1

    def test_a_registry_that_does_not_answer_yet_gets_the_grace(self):
        started = pod("api-0", "Pending", False, containers=[waiting(
            "api", "ErrImagePull", 'failed to do request: Head "https://r.example:5000/v2/": dial tcp 10.0.0.9:5000:'
            ' connect: connection refused')])
        started["status"]["startTime"] = "2026-12-02T21:00:00Z"
        assert pod_problems([started], now="2026-12-02T21:00:30Z") == []

    def test_a_pod_no_node_can_take_once_the_scheduler_has_tried_for_five_minutes(self):
        # As the scheduler left six installs' pods on a two-core kind node: their CPU requests did not fit.
        waiting_pod = pod("airflow-scheduler-7c7b", "Pending", False)
        waiting_pod["status"]["conditions"] = [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "lastTransitionTime": "2026-12-06T03:18:00Z",
            "message": "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: 0/1 "
                       "nodes are available: 1 No preemption victims found for incoming pod."}]
        assert pod_problems([waiting_pod], now="2026-12-06T03:22:59Z") == []
        assert pod_problems([waiting_pod], now="2026-12-06T03:23:00Z") == [
            {"pod": "airflow-scheduler-7c7b", "container": "", "init": False, "reason": "Unschedulable",
             "message": waiting_pod["status"]["conditions"][0]["message"]}]
        assert pod_problems([waiting_pod], unschedulable_grace=60, now="2026-12-06T03:19:00Z")[0]["reason"] == \
            "Unschedulable"

    def test_a_scheduled_pod_is_no_scheduling_problem(self):
        placed = pod("api-0", "Pending", False)
        placed["status"]["conditions"] = [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-12-06T03:18:00Z"}]
        assert pod_problems([placed], now=self.LATER) == []

    def test_an_image_name_that_is_not_valid_at_once(self):
        started = pod("api-0", "Pending", False, containers=[waiting("api", "InvalidImageName", "bad name")])
        started["status"]["startTime"] = "2026-12-02T21:00:00Z"
        assert pod_problems([started], now="2026-12-02T21:00:01Z")[0]["reason"] == "InvalidImageName"

    def test_a_crash_looping_init_container_says_how_it_exited_on_its_third_failure(self):
        def crashed(restarts):
            return [pod("scheduler-0", "Pending", False,
                        init=[waiting("git-sync-init", "CrashLoopBackOff", last_exit=1, restarts=restarts)])]
        assert pod_problems(crashed(1), now=self.LATER) == []
        assert pod_problems(crashed(2), now=self.LATER) == [
            {"pod": "scheduler-0", "container": "git-sync-init", "init": True,
             "reason": "CrashLoopBackOff", "message": "exited 1 after 2 restarts"}]

    def test_a_crash_loop_in_its_back_off_shown_as_the_exit(self):
        # As kind showed a gitSync branch that does not exist: the init container's state stays at the exit
        # for the whole back-off; only the restart count says it already failed before.
        init = {"name": "git-sync-init", "restartCount": 4,
                "state": {"terminated": {"exitCode": 1, "reason": "Error"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}
        problems = pod_problems([pod("scheduler-0", "Pending", False, init=[init])])
        assert problems == [{"pod": "scheduler-0", "container": "git-sync-init", "init": True,
                             "reason": "Error", "message": "exited 1 after 4 restarts"}]

    def test_one_or_two_failures_with_a_restart_to_come_are_no_problem_yet(self):
        first = {"name": "git-sync-init", "restartCount": 0, "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
        second = {"name": "git-sync", "restartCount": 1, "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
        done = {"name": "wait-for-migrations", "restartCount": 2, "state": {"terminated": {"exitCode": 0}}}
        assert pod_problems([pod("scheduler-0", "Pending", False, init=[first, done], containers=[second])]) == []

    def test_a_start_error_a_retry_cured_is_no_problem_in_any_state_the_wait_saw(self):
        # issue 22: on a loaded host, runc could not start git-sync ("unable to freeze", exit 128, shown as
        # RunContainerError); its next try ran. The old rule stopped the deploy at the first of these states.
        states = seen("start-error-that-a-retry-cured")
        at_the_error = next(state for state in states if "RunContainerError" in json.dumps(state))
        assert at_the_error["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 128
        for state in states:
            assert pod_problems([state], now=self.LATER) == [], state["status"]

    def test_a_gitsync_branch_that_does_not_exist_is_stuck_from_its_third_failure_on(self):
        # The states the wait saw of a new dag-processor pod whose git-sync-init can't fetch its branch.
        found = [pod_problems([state], now=self.LATER) for state in seen("gitsync-branch-that-does-not-exist")]
        first = next(number for number, problems in enumerate(found) if problems)
        assert all(found[first:]), "once stuck, it stays stuck"
        (problem,) = found[first]
        assert problem["container"] == "git-sync-init" and problem["init"]
        assert problem["message"] == "exited 1 after 2 restarts"

    def test_a_start_error_that_persists_says_what_the_runtime_said(self):
        states = seen("start-error-that-a-retry-cured")
        at_the_error = next(state for state in states if "RunContainerError" in json.dumps(state))
        git_sync = at_the_error["status"]["containerStatuses"][0]
        git_sync["restartCount"] = 2
        (problem,) = pod_problems([at_the_error], now=self.LATER)
        assert problem["container"] == "git-sync" and problem["reason"] == "RunContainerError"
        assert problem["message"].startswith("could not be started after 2 restarts: failed to create containerd task")
        assert problem["message"].endswith("unable to freeze")

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

    @pytest.mark.parametrize("reason", ["ContainerCreating", "PodInitializing"])
    def test_still_starting_is_no_problem(self, reason):
        assert pod_problems([pod("api-0", "Pending", False, containers=[waiting("api", reason)]),
                             pod("api-1"), {"metadata": {"name": "bare"}}], now=self.LATER) == []


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


class TestOutgoingPods:
    """Which pods a Deployment's rollout replaces (pods_wait neither waits for them nor calls them stuck)."""

    @staticmethod
    def owned(obj, kind, name):
        obj["metadata"]["ownerReferences"] = [{"kind": kind, "name": name}]
        return obj

    def replica_set(self, name, deployment, revision):
        return self.owned({"metadata": {"name": name, "annotations": {
            "deployment.kubernetes.io/revision": str(revision)}}}, "Deployment", deployment)

    def test_the_pods_of_an_older_replica_set_are_outgoing_and_the_newest_ones_are_not(self):
        sets = [self.replica_set("api-1", "api", 1), self.replica_set("api-2", "api", 2),
                self.replica_set("sched-9", "sched", 9), self.replica_set("sched-10", "sched", 10)]
        pods = [self.owned(pod("api-1-a", ready=False), "ReplicaSet", "api-1"),
                self.owned(pod("api-2-a", ready=False), "ReplicaSet", "api-2"),
                # 10 > 9 as numbers, not as text.
                self.owned(pod("sched-9-a"), "ReplicaSet", "sched-9"),
                self.owned(pod("sched-10-a"), "ReplicaSet", "sched-10"),
                # A StatefulSet's pod, a Job's, and one whose ReplicaSet was not read: never outgoing.
                self.owned(pod("worker-0", ready=False), "StatefulSet", "worker"),
                self.owned(pod("migrate-x", phase="Failed"), "Job", "migrate"),
                self.owned(pod("other-a"), "ReplicaSet", "other-1"), pod("bare")]
        assert outgoing_pods(pods, sets) == {"api-1-a", "sched-9-a"}

    def test_without_replica_sets_nothing_is_outgoing(self):
        assert outgoing_pods([self.owned(pod("api-1-a"), "ReplicaSet", "api-1")], []) == set()
