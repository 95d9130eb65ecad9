"""What every test run can be asked for: `--groups` runs only some of the groups tests/support/groups.py names."""

from __future__ import annotations

import pytest

from tests.support.groups import GROUP, GROUPS, NO_CLUSTER


def pytest_addoption(parser):
    parser.addoption("--groups", default=",".join(GROUPS), metavar="GROUP,...",
                     help=f"run only the tests of these groups, by the cluster they use: {', '.join(GROUPS)}"
                          " (default: all).")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """After tests/integration/conftest.py has given each test its group: leave out those of the other groups. A test
    without a group (only unit tests were collected, so that conftest did not load) needs no cluster."""
    wanted = [name.strip() for name in config.getoption("groups").split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(GROUPS))
    if unknown or not wanted:
        raise pytest.UsageError(f"--groups: {', '.join(unknown) or 'nothing'} is no group; the groups are"
                                f" {', '.join(GROUPS)}")
    kept, left_out = [], []
    for item in items:
        (kept if item.stash.get(GROUP, NO_CLUSTER) in wanted else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
