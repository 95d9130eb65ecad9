"""What a new user sees: `make demo` (scripts/demo.sh, which make runs) on a kind cluster from
nothing, ending with the pod's output and where to look; a second run that changes nothing; a
real browser that logs in at the printed address with the printed password command and sees the
run succeeded. These run before the faults on the same cluster (test_make_demo_faults, marked
breaks("demo")); the printed teardown command is tested last (test_make_demo_teardown, marked ends("demo")).

The demo (tests/support/demo.py) runs once per session on a cluster of its own."""

from __future__ import annotations

import pytest

from tests.support.browser import run_is_shown_successful
from tests.support.common import REPO_ROOT
from tests.support.demo import Demo, changed_tasks, printed, recap_changed, shell

# A kind cluster and the offline build: run after the tests that need neither (see conftest.py).
pytestmark = pytest.mark.cluster


def test_the_demo_ends_with_the_pods_output(demo: Demo):
    first = demo.first
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-2000:]
    assert "Hello from kubernetes!!!" in first.stdout
    assert "User id: 1001" in first.stdout
    assert recap_changed(first.stdout) > 0


def test_no_airflow_container_restarted_during_the_first_demo(demo: Demo):
    # issue 22: a container that failed to start once (runc's "unable to freeze" on cgroup v1) stopped a first
    # make demo on a new machine. The fixture read the counts when the first run ended, before any fault test.
    assert demo.first.returncode == 0, demo.first.stdout[-3000:]
    assert demo.first_restarts == {}, demo.first_restarts


def test_the_demo_says_where_to_look_without_printing_the_password(demo: Demo, tmp_path):
    first = demo.first
    ui = printed(first.stdout, "Airflow UI").split()[0]
    run_page = printed(first.stdout, "This run")
    assert run_page.startswith(f"{ui}/dags/first_script/runs/image-")
    password = shell(printed(first.stdout, "The password"), timeout=120)
    assert password.returncode == 0 and len(password.stdout.strip()) >= 16, password.stderr
    assert password.stdout.strip() not in first.stdout
    run_id = run_page.rsplit("/", 1)[-1]
    state = run_is_shown_successful(ui, "admin", password.stdout.strip(), "first_script", run_id,
                                    REPO_ROOT / "tests" / "output" / "ui" / f"{tmp_path.name}.png")
    assert state.strip().lower() == "success"


def test_a_second_demo_changes_nothing(demo: Demo):
    again = demo.run("scripts/demo.sh")
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap_changed(again.stdout) == 0, changed_tasks(again.stdout)
    assert "Hello from kubernetes!!!" in again.stdout
