"""Session-wide real parts for the integration tests; each starts once and stops at the end."""

from __future__ import annotations

import time

import pytest

from tests.support import docker_engine
from tests.support.airflow import REPO_ROOT, Airflow, Airflow2, ensure_airflow_venv
from tests.support.base_image import ensure_base_image
from tests.support.common import PartUnavailable
from tests.support.demo import remove_demo, start_demo
from tests.support.groups import GROUP, NO_CLUSTER, OWN_CLUSTERS, SHARED_CLUSTERS
from tests.support.helm import ensure_helm
from tests.support.helm_mirror import HelmMirror
from tests.support.kind import Cluster
from tests.support.registry import Registry
from tests.support.standin import StandIn


# The session's clusters (SHARED_CLUSTERS), in the order their tests run within one pytest; each is removed by the
# one test marked ends(<its fixture>), or at the end of the session. The stand-in goes last: its ingress controller is
# the offline build's last part.

# A local Airflow keeps its scheduler, DAG processor and triggerer busy for as long as it runs (the session's
# two, about 15% of one core together, seen with top during the cluster tests, which need no local Airflow): each
# stops after the last test that uses it, not at the session's end. Its fixture's own stop, at the end, then finds nothing left to stop.
STOP_AFTER_LAST_USER = ("airflow", "airflow2")


def run_order(item) -> int:
    """0: needs no cluster; then, for each shared cluster in turn, the tests that only read it, the tests that break
    and mend it (marked breaks(<its fixture>)), and the one that ends it; last, the tests that make clusters of their
    own."""
    if item.get_closest_marker("cluster") is None:
        return 0
    for rank, fixture in enumerate(SHARED_CLUSTERS):
        if fixture in item.fixturenames:
            use = next((step for step, marker in enumerate(("breaks", "ends"), 1)
                        if any(mark.args == (fixture,) for mark in item.iter_markers(marker))), 0)
            return 1 + 3 * rank + use
    return 1 + 3 * len(SHARED_CLUSTERS)


def local_airflow_order(item) -> int:
    """Among the tests that need no cluster: the unit tests (seconds), then those on the local Airflow 3, then those
    on Airflow 2, then the rest, so each local Airflow runs only while its tests do (STOP_AFTER_LAST_USER) and
    never beside the other."""
    if not item.nodeid.startswith("tests/integration/"):
        return 0
    return 1 + next((rank for rank, name in enumerate(STOP_AFTER_LAST_USER) if name in item.fixturenames),
                    len(STOP_AFTER_LAST_USER))


def pytest_collection_modifyitems(items):
    """The tests that need a kind cluster go last. Until then the others run: on a new machine CI builds the
    cluster's parts (offline/build.py) meanwhile, and the first cluster test waits for the parts it needs (the
    build locks part by part) instead of the whole suite waiting for the build. Then the tests on each shared
    cluster run together, those that read what its first run made before those that break it, the one that removes
    it last, so one cluster at a time holds the host's two cores (the sort is stable: within a group, tests keep the
    order pytest collected them in). Each test carries its group (tests/support/groups.py), which `--groups` selects
    by (tests/conftest.py). Two pytests at once, each on a cluster of its own, were tried: every cluster test took
    ~1.7 times as long (the host's cores were busy all through), so side by side gained nothing (issue 28)."""
    order = {item.nodeid: run_order(item) for item in items}
    items.sort(key=lambda item: (order[item.nodeid], local_airflow_order(item) if order[item.nodeid] == 0 else 0))
    for item in items:
        item.stash[GROUP] = _GROUP_OF[item.nodeid] = group_name(order[item.nodeid])


_LAST_USE: dict[str, list[str]] = {}  # nodeid of a fixture's last user -> the fixtures it is the last user of
_STARTED: dict[str, object] = {}


def pytest_collection_finish(session):
    """What each of STOP_AFTER_LAST_USER's last user is, in the order the tests will run (after -k and -m)."""
    last = {name: item.nodeid for item in session.items for name in STOP_AFTER_LAST_USER if name in item.fixturenames}
    _LAST_USE.clear()
    for name, nodeid in last.items():
        _LAST_USE.setdefault(nodeid, []).append(name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        for name in _LAST_USE.get(item.nodeid, ()):
            running = _STARTED.pop(name, None)
            if running is not None:
                running.stop()


def group_name(order: int) -> str:
    if order == 0:
        return NO_CLUSTER
    rank = (order - 1) // 3
    return SHARED_CLUSTERS[rank] if rank < len(SHARED_CLUSTERS) else OWN_CLUSTERS


# Each group's wall time (its first test's start to its last test's end, fixtures included): where CI's minutes go,
# printed beside the slowest tests so a group that grows is seen before CI's time runs out.
_GROUP_OF: dict[str, str] = {}
_GROUP_SPAN: dict[str, list[float]] = {}


def pytest_runtest_logreport(report):
    group = _GROUP_OF.get(report.nodeid)
    if group is not None:
        span = _GROUP_SPAN.setdefault(group, [report.start, report.stop])
        span[0], span[1] = min(span[0], report.start), max(span[1], report.stop)


def pytest_terminal_summary(terminalreporter):
    if not _GROUP_SPAN:
        return
    first = min(span[0] for span in _GROUP_SPAN.values())
    terminalreporter.section("integration tests' wall time by the cluster they use")
    for group, (start, stop) in sorted(_GROUP_SPAN.items(), key=lambda entry: entry[1][0]):
        terminalreporter.write_line(f"{_minutes(stop - start):>8} {group} (from {_minutes(start - first)} to"
                                    f" {_minutes(stop - first)} after the first integration test)")
    terminalreporter.write_line(f"{_minutes(time.time() - first):>8} all of them, to now")


def _minutes(seconds: float) -> str:
    return f"{int(seconds) // 60}m{int(seconds) % 60:02d}s"


def _provide(factory):
    """Turn a missing part into a test error with the part's own one-line reason, never a skip."""
    try:
        return factory()
    except PartUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def docker_client():
    client = _provide(docker_engine.connect)
    yield client
    client.close()


@pytest.fixture(scope="session")
def registry():
    """A registry without authentication, as kind's local registry is."""
    running = _provide(Registry)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def auth_registry():
    """A registry that demands the htpasswd credentials it carries."""
    running = _provide(lambda: Registry(username="pusher", password="push-secret-4711"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def base_image(docker_client):
    return _provide(ensure_base_image)


@pytest.fixture(scope="session")
def airflow():
    venv = _provide(ensure_airflow_venv)
    running = _STARTED["airflow"] = _provide(lambda: Airflow(venv))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def airflow2():
    """Airflow 2.11 (/api/v1, basic auth): the dag_run module's second code path."""
    venv = _provide(lambda: ensure_airflow_venv(REPO_ROOT / "tests" / "airflow2-requirements.txt"))
    running = _STARTED["airflow2"] = _provide(lambda: Airflow2(venv))
    yield running
    running.stop()


@pytest.fixture(scope="session", params=["v4.1.4", "v3.17.2"])
def helm_binary(request):
    return request.param, _provide(lambda: ensure_helm(request.param))


@pytest.fixture(scope="session")
def helm():
    """The helm the helm role pins, for tests that lint and render charts."""
    return _provide(ensure_helm)


@pytest.fixture(scope="session")
def helm_mirror():
    """Official helm builds, packed as the official archives, served from loopback."""
    mirror = _provide(HelmMirror)
    yield mirror
    mirror.stop()


@pytest.fixture(scope="session")
def demo(tmp_path_factory, docker_client):
    """`make demo` once, on a cluster of its own, as a new user runs it: checked (test_make_demo), broken and mended
    (test_make_demo_faults), re-run by Molecule's kind scenario (test_molecule_kind), and torn down as a user would
    (test_make_demo_teardown, marked ends("demo"))."""
    running = start_demo(tmp_path_factory.mktemp("demo"))
    yield running
    remove_demo(running)


@pytest.fixture(scope="session")
def shared_cluster(tmp_path_factory, docker_client):
    """One kind cluster, made by the kind_cluster role, for every test that can share it: the role's own checks
    (test_kind_cluster_role) and the airflow role's installs, each in a namespace of its own (test_airflow_on_kind).
    A cluster is minutes of CI (its node, its registry filled with the Airflow stack), so tests share it rather than
    make their own (issue 28). test_kind_cluster_role removes it (marked ends("shared_cluster")); removing it here
    again, at the end, is for a session that stopped before."""
    volumes_before = {volume.name for volume in docker_client.volumes.list()}
    made = Cluster(tmp_path_factory.mktemp("shared-cluster"))
    try:
        first = made.converge()
        if first.rc != 0:
            pytest.fail(f"the shared kind cluster did not come up: {first.failure or first.output[-6000:]}",
                        pytrace=False)
        made.volumes_before = volumes_before
        yield made
    finally:
        made.destroy()


@pytest.fixture(scope="session")
def standin(tmp_path_factory, docker_client):
    """A stand-in for an existing cluster (tests/support/standin.py): three kind nodes the kind_cluster role did
    not make, with a registry that wants a password over TLS, gitSync over SSH, PostgreSQL with TLS and a TLS
    ingress beside or in it. The example inventory deploys on it (test_example_inventory), whose last test removes
    it (marked ends("standin")); removing it here again, at the end, is for a session that stopped before."""
    made = StandIn(tmp_path_factory.mktemp("standin"), docker_client)
    try:
        yield _provide(made.start)
    finally:
        made.stop()
