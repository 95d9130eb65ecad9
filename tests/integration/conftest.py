"""Session-wide real parts for the integration tests; each starts once and stops at the end."""

from __future__ import annotations

import pytest

from tests.support import docker_engine
from tests.support.airflow import REPO_ROOT, Airflow, Airflow2, ensure_airflow_venv
from tests.support.base_image import ensure_base_image
from tests.support.common import PartUnavailable
from tests.support.demo import remove_demo, start_demo
from tests.support.helm import ensure_helm
from tests.support.helm_mirror import HelmMirror
from tests.support.registry import Registry


def pytest_collection_modifyitems(items):
    """The tests that need a kind cluster go last, in their own order (the demo's modules run in the order of their
    names). Until then the others run: on a new machine CI builds the cluster's parts (offline/build.py) meanwhile,
    and the first cluster test waits for that build (its lock) instead of the whole suite waiting for it."""
    items.sort(key=lambda item: item.get_closest_marker("cluster") is not None)


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
    return _provide(lambda: ensure_base_image(docker_client))


@pytest.fixture(scope="session")
def airflow():
    venv = _provide(ensure_airflow_venv)
    running = _provide(lambda: Airflow(venv))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def airflow2():
    """Airflow 2.11 (/api/v1, basic auth): the dag_run module's second code path."""
    venv = _provide(lambda: ensure_airflow_venv(REPO_ROOT / "tests" / "airflow2-requirements.txt"))
    running = _provide(lambda: Airflow2(venv))
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
    """`make demo` once, on a cluster of its own; test_make_demo_teardown tears it down as a user would."""
    running = start_demo(tmp_path_factory.mktemp("demo"))
    yield running
    remove_demo(running)
