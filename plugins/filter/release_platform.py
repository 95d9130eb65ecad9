# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""The platform name release archives and binaries use (Go's GOOS-GOARCH), from a host's facts."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: release_platform
author: airflow_k8s.platform maintainers
short_description: A host's platform as Go-built releases name it, such as linux-amd64
description:
  - Turns a host's facts (C(ansible_facts) after C(ansible.builtin.setup), its C(system) and C(architecture)) into the
    C(<os>-<arch>) name that releases built with Go give their files, such as C(helm-v4.1.4-linux-amd64.tar.gz)
    and C(kind-linux-amd64). The helm and kind_cluster roles pick their pinned download and its checksum with it.
  - The machine names the kernel reports (C(x86_64), C(aarch64), C(armv7l)) become Go's (C(amd64), C(arm64),
    C(arm)); a name Go already uses passes through.
positional: _input, os, arch
options:
  _input:
    description: The host's facts, with C(system) and C(architecture).
    type: dict
    required: true
  os:
    description: The operating system to use instead of the facts', lower case (C(linux), C(darwin)).
    type: str
    default: ""
  arch:
    description: The architecture to use instead of the facts', in either naming.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The archive helm publishes for this host
  ansible.builtin.set_fact:
    helm_archive: "helm-v4.1.4-{{ ansible_facts | airflow_k8s.platform.release_platform }}.tar.gz"
"""

RETURN = r"""
_value:
  description: The platform, such as C(linux-amd64) or C(darwin-arm64).
  type: str
"""

# The kernel's machine names (uname -m) and Go's own, as GOARCH names them.
GO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm", "arm": "arm",
           "i386": "386", "i686": "386", "386": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def release_platform(facts, os="", arch=""):
    facts = facts or {}
    system = (os or facts.get("system") or "").lower()
    machine = arch or facts.get("architecture") or ""
    if not system or not machine:
        raise AnsibleFilterError("release_platform needs the host's facts (system and architecture): gather them "
                                 "with ansible.builtin.setup (gather_subset: [min]) first")
    if machine not in GO_ARCH:
        raise AnsibleFilterError(f"release_platform does not know the architecture {machine!r}: give the release's "
                                 f"own name for it ({', '.join(sorted(set(GO_ARCH.values())))})")
    return f"{system}-{GO_ARCH[machine]}"


class FilterModule:
    def filters(self):
        return {"release_platform": release_platform}
