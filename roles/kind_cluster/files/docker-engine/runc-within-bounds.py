#!/usr/bin/env python
"""An OCI runtime in front of runc that asks only for capabilities this host can grant.

Docker gives a privileged container every capability it knows. On a host whose capability
bounding set lacks one of them (some VMs drop CAP_SYS_RESOURCE), runc then fails with "unable to
apply caps: operation not permitted", and kind's node containers never start. This program
removes from the container's spec every capability the bounding set lacks (no process could hold
it anyway), then runs the real runc with the same arguments. Everything else passes through.

The spec is <bundle>/config.json for "create" and "run", and the --process file for "exec".
The real runc is the first of RUNC_CANDIDATES that exists. setup.sh (beside it)
installs and registers this program, and only on hosts that need it.
"""

import json
import os
import sys

RUNC_CANDIDATES = ("/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc")
# Linux capability numbers (include/uapi/linux/capability.h). A name missing here passes through.
CAPABILITIES = (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
    "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO "
    "SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME "
    "SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG "
    "WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE"
).split()
NUMBERS = {"CAP_" + name: number for number, name in enumerate(CAPABILITIES)}


def bounding_set():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    return -1  # no such line: keep everything


def within_bounds(capabilities, bounds):
    """The capability lists of an OCI spec with the names the bounding set lacks taken out."""
    return {
        kind: [name for name in names if name not in NUMBERS or bounds >> NUMBERS[name] & 1]
        for kind, names in capabilities.items()
    }


def option(args, *names):
    """The value of the first of ``names`` in ``args`` (--opt value or --opt=value), or None."""
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith(name + "="):
                return arg[len(name) + 1:]
    return None


def spec_to_fix(args):
    """(path, key path to the capabilities) of the JSON document this runc call reads, or None."""
    command = next((arg for arg in args if arg in ("create", "run", "exec")), None)
    if command in ("create", "run"):
        bundle = option(args, "--bundle", "-b") or os.getcwd()
        return os.path.join(bundle, "config.json"), ("process", "capabilities")
    if command == "exec":
        process = option(args, "--process", "-p")
        return (process, ("capabilities",)) if process else None
    return None


def fix(path, keys, bounds):
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    parent = document
    for key in keys[:-1]:
        parent = parent.get(key) or {}
    capabilities = parent.get(keys[-1])
    if not capabilities:
        return
    narrowed = within_bounds(capabilities, bounds)
    if narrowed != capabilities:
        parent[keys[-1]] = narrowed
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle)


def main():
    args = sys.argv[1:]
    bounds = bounding_set()
    target = spec_to_fix(args)
    if target and bounds >= 0:
        fix(target[0], target[1], bounds)
    runc = next((path for path in RUNC_CANDIDATES if os.access(path, os.X_OK)), None)
    if runc is None:
        sys.exit("runc-within-bounds: no runc found at " + ", ".join(RUNC_CANDIDATES))
    os.execv(runc, [runc] + args)


if __name__ == "__main__":
    main()
