"""Build here, from Go modules, PyPI and Debian packages, what the kind flow needs when nothing can
be downloaded from its usual places: the kind CLI, a kind node image, the images of the cluster's
local registry, DAG git server and database, and Airflow's image, git-sync and chart. See
offline/README.md.

    python offline/build.py [--push-to REGISTRY] [TARGET ...]
        targets: kind node-image registry-image git-server-image postgres-image helm
                 python-base-image airflow-image git-sync-image airflow-chart git-ssh-server-image
                 previous-airflow-image ingress-controller-image
                 (default: all of them)

Progress goes to stderr, one line per part. stdout gets JSON: {"results": {TARGET: a path for
kind and the chart, an image name for the rest}, "built": [what this run made rather than
reused]}. With --push-to, the pushed targets' results are their pushed names (image@digest; for
the chart {"chart": "oci://...", "version", "digest"}). Versions
default to the pins the roles use (pins.yml). Needs root (debootstrap), Go, gcc, libseccomp-dev, and a
running Docker Engine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builder.cache import Cache  # noqa: E402
from builder.common import BuildFailed  # noqa: E402
from builder.plan import KUBERNETES_RELEASE, PINS, PUSHABLE, TARGETS, Plan, role_pins  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    # The versions' defaults come from the pins file the build is given.
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--pins", type=Path, default=PINS)
    kind_version, kubernetes_version, helm_version = role_pins(first.parse_known_args(argv)[0].pins)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"what to build: {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--kind-version", default=kind_version, help=f"kind release (default: {kind_version})")
    parser.add_argument("--kubernetes-version", default=kubernetes_version,
                        help=f"Kubernetes release of the node image (default: {kubernetes_version})")
    parser.add_argument("--helm-version", default=helm_version, help=f"helm release (default: {helm_version})")
    parser.add_argument("--cache", type=Path, help="cache folder (default: ~/.cache/airflow_k8s_platform/offline)")
    parser.add_argument("--pins", type=Path, default=PINS, help="pins file (default: the collection's pins.yml)")
    parser.add_argument("--push-to", default="", metavar="REGISTRY",
                        help=f"push {', '.join(PUSHABLE)} to this registry (host:port, plain HTTP: a loopback registry)"
                             " and give their pushed names")
    options = parser.parse_args(argv)
    unknown = sorted(set(options.targets) - set(TARGETS))
    if unknown:
        parser.error(f"no such target: {', '.join(unknown)} (targets: {', '.join(TARGETS)})")

    if not KUBERNETES_RELEASE.fullmatch(options.kubernetes_version):
        parser.error(f"--kubernetes-version {options.kubernetes_version!r} is not a Kubernetes release such as v1.35.0:"
                     " give the node image a release tag, or name the version")
    cache = Cache(options.cache)
    # Two builds at once share the work part by part (Cache.making): each waits only for the parts it needs that
    # the other is making.
    try:
        versions = (options.kind_version, options.kubernetes_version, options.helm_version)
        plan = Plan(cache, versions, options.pins, options.push_to)
        built = plan.build(options.targets or list(TARGETS))
    except BuildFailed as failure:
        print(str(failure), file=sys.stderr)
        if failure.detail:
            print(failure.detail, file=sys.stderr)
        return 1
    json.dump({"results": built, "built": cache.made}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
