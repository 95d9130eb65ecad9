"""The last test on the demo's cluster (marked ends("demo"): conftest.py runs it after every other test on it, the faults marked breaks("demo") too): the
teardown command the demo printed leaves nothing behind."""

from __future__ import annotations

import shlex

import pytest

from tests.support.demo import NAME, Demo, printed, shell

# A kind cluster and the offline build: run after the tests that need neither (see conftest.py).
pytestmark = pytest.mark.cluster


@pytest.mark.ends("demo")
def test_the_printed_teardown_leaves_nothing_behind(demo: Demo, docker_client):
    teardown = shell(f"{printed(demo.first.stdout, 'Tear it all down')} -e {shlex.quote('@' + str(demo.variables))}")
    assert teardown.returncode == 0, teardown.stdout[-3000:]
    assert [c.name for c in docker_client.containers.list(all=True) if c.name.startswith(NAME)] == []
