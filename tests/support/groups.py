"""The groups the tests run in, by the cluster they use (tests/integration/conftest.py sorts them so), and the key
under which each collected test carries its group. `pytest --groups demo,standin` runs only those groups' tests
(tests/conftest.py)."""

from __future__ import annotations

import pytest

# In the order they run within one pytest. The shared clusters' groups are named as their fixtures are.
NO_CLUSTER = "no-cluster"
SHARED_CLUSTERS = ("shared_cluster", "demo", "standin")
OWN_CLUSTERS = "own-clusters"
GROUPS = (NO_CLUSTER, *SHARED_CLUSTERS, OWN_CLUSTERS)

GROUP = pytest.StashKey[str]()
