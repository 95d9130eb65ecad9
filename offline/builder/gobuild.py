"""Programs built from their Go modules, through the Go module proxy.

Each part is built from a small module of our own that requires the upstream module at the pinned
version (``go get -tool``): the same dependency versions upstream's go.mod selects, checked
against go.sum and the checksum database, and no clone of upstream's repository. Binaries are
static (CGO off) unless the part says otherwise, stripped, and stamped with their version the
way upstream's release builds stamp it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .cache import Cache, key
from .common import BuildFailed, Stopwatch, run, say

# Files of ours that take the place of a file of the module or a dependency when a part is built (pins.yml's
# overlays; apply_overlays says how).
OVERLAYS = Path(__file__).resolve().parents[1] / "overlays"

# Bump when the recipe below changes what it produces: every Go part is rebuilt.
RECIPE = 1


@dataclass
class GoPart:
    name: str
    module: str
    version: str
    binaries: dict[str, str]  # binary name -> package path inside the module ("." is the module itself)
    cgo: bool = False
    tags: list[str] = field(default_factory=list)
    extra_ldflags: list[str] = field(default_factory=list)
    version_variables: dict[str, str] = field(default_factory=dict)
    # module -> version (the same module at that version), or -> "other/module version": what upstream replaces
    replaces: dict[str, str] = field(default_factory=dict)
    # "<package>/<file>.go" of the module or a dependency -> a file under offline/overlays/ that takes its place
    # when this part is built: what upstream compiles in that the cluster never uses (CoreDNS's cloud plugins,
    # lego's DNS providers in Traefik) is left out, for minutes less of a cold build.
    overlays: dict[str, str] = field(default_factory=dict)
    pinned_by: str = "pins.yml"  # where the version comes from, for the error that says it is wrong

    def package(self, path: str) -> str:
        return self.module if path == "." else f"{self.module}/{path}"

    def inputs(self, go_version: str) -> dict:
        """Everything that decides what the build makes: the cache key."""
        made_from = {name: value for name, value in self.__dict__.items() if name not in ("pinned_by", "overlays")}
        # An overlay's content decides what is built, not only its name.
        overlays = {target: hashlib.sha256((OVERLAYS / ours).read_bytes()).hexdigest()
                    for target, ours in sorted(self.overlays.items())}
        return {"recipe": RECIPE, "go": go_version, **made_from, **({"overlays": overlays} if overlays else {})}


def go_version(cache: Cache) -> str:
    try:
        return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True,
                              env={**os.environ, **cache.go_env()}).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BuildFailed("go", "the Go toolchain does not run (`go env GOVERSION`): install Go 1.25 or newer"
                          f" ({exc})") from None


def module_info(part: str, module: str, version: str, cache: Cache, log: Path,
                pinned_by: str = "pins.yml") -> dict:
    """What the proxy says of module@version: its go.mod path, commit and time (``go mod download -json``)."""
    output = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], capture_output=True,
                            text=True, check=False, env={**os.environ, **cache.go_env()})
    try:
        info = json.loads(output.stdout)
    except ValueError:
        info = {"Error": (output.stderr or output.stdout).strip()}
    if info.get("Error") or output.returncode != 0:
        reason = " ".join(str(info.get("Error") or output.stderr).split())
        raise BuildFailed(part, f"the Go module proxy does not serve {module}@{version} ({reason}): check the"
                                f" version in {pinned_by}, or GOPROXY")
    info.update(json.loads(Path(info["Info"]).read_text()))
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"\n{module}@{version}: {json.dumps(info.get('Origin', {}))}\n")
    return info


def stamp_values(version: str, info: dict) -> dict[str, str]:
    numbers = re.match(r"v?(\d+)\.(\d+)", version)
    return {"version": version, "bare_version": version.lstrip("v"),
            "major": numbers.group(1) if numbers else "", "minor": numbers.group(2) if numbers else "",
            "commit": info.get("Origin", {}).get("Hash", ""), "time": info.get("Time", "")}


def build(part: GoPart, cache: Cache) -> Path:
    """The folder holding ``part``'s binaries, built now unless a finished build is cached."""
    with cache.making(part.name):
        return _build(part, cache)


def _build(part: GoPart, cache: Cache) -> Path:
    result = cache.result(part.name, part.version, key(part.inputs(go_version(cache))))
    if cache.complete(result):
        say(f"{part.name} {part.version}: reused the cached build")
        return result
    clock = Stopwatch()
    log = cache.log(part.name, fresh=True)
    say(f"{part.name} {part.version}: building from Go module {part.module}")
    env = {**cache.go_env(), "CGO_ENABLED": "1" if part.cgo else "0"}
    info = module_info(part.name, part.module, part.version, cache, log, part.pinned_by)

    work = cache.work(part.name)
    replaces = "".join(f"replace {module} => {target if ' ' in target else f'{module} {target}'}\n"
                       for module, target in sorted(part.replaces.items()))
    (work / "go.mod").write_text(f"module airflow-k8s-platform.local/offline/{part.name}\n\ngo 1.22\n\n{replaces}")
    packages = sorted({part.package(path) for path in part.binaries.values()})
    run(part.name, ["go", "get", "-tool", *(f"{package}@{part.version}" for package in packages)], log, env=env,
        cwd=work)

    values = stamp_values(part.version, info)
    ldflags = ["-s", "-w", *part.extra_ldflags,
               *(f"-X={variable}={value.format(**values)}" for variable, value in part.version_variables.items())]
    out = cache.begin(result) / "bin"
    out.mkdir()
    build_flags = ["-trimpath", "-ldflags", " ".join(ldflags), *(["-tags", ",".join(part.tags)] if part.tags else [])]
    apply_overlays(part, work, log, env)
    # One go build for every binary named after its package: the compiles of all of them share
    # both cores, and the links overlap with them (Kubernetes: about half the time of one by one).
    together = sorted(part.package(path) for binary, path in part.binaries.items()
                      if part.package(path).rsplit("/", 1)[-1] == binary)
    if together:
        run(part.name, ["go", "build", *build_flags, "-o", f"{out}/", *together], log, env=env, cwd=work)
    for binary, path in sorted(part.binaries.items()):
        if part.package(path) not in together:
            run(part.name, ["go", "build", *build_flags, "-o", str(out / binary), part.package(path)], log, env=env,
                cwd=work)
    cache.finish(result, {"part": part.name, "module": part.module, "version": part.version,
                          "commit": values["commit"], "binaries": sorted(part.binaries)})
    cache.made.append(part.name)
    say(f"{part.name} {part.version}: built in {clock}")
    return result


def apply_overlays(part: GoPart, work: Path, log: Path, env: dict[str, str]) -> None:
    """Put our files in place of the ones ``part.overlays`` names. Go refuses to overlay a file of its module cache
    (``go build -overlay``), so the module that holds it is copied into the work folder, our file written over its
    own, and the build's go.mod points the module there (a ``replace`` by path): the same version, one file changed."""
    copies: dict[str, Path] = {}
    for target, ours in sorted(part.overlays.items()):
        package, file = target.rsplit("/", 1)
        listed = run(part.name, ["go", "list", "-f", "{{.Module.Path}}\t{{.Module.Dir}}\t{{.Dir}}", package], log,
                     env=env, cwd=work, capture=True).strip().split("\t")
        module, module_dir, package_dir = listed
        relative = Path(package_dir).relative_to(module_dir) / file
        if not (Path(module_dir) / relative).is_file():
            raise BuildFailed(part.name, f"the overlay {ours} replaces {target}, which the build of {part.module}@"
                                         f"{part.version} does not have: check it against that version (pins.yml)")
        if module not in copies:
            copies[module] = work / "overlaid" / module
            shutil.copytree(module_dir, copies[module])
            for folder in [copies[module], *(path for path in copies[module].rglob("*") if path.is_dir())]:
                folder.chmod(0o755)  # the module cache's copies are read-only
        (copies[module] / relative).chmod(0o644)
        shutil.copyfile(OVERLAYS / ours, copies[module] / relative)
    for module, copy in copies.items():
        run(part.name, ["go", "mod", "edit", f"-replace={module}=./{copy.relative_to(work)}"], log, env=env, cwd=work)


def kubernetes_staging_replaces(version: str, cache: Cache, log: Path) -> dict[str, str]:
    """k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...) with folders its module zip
    leaves out: a consumer requires each published one at v0.<minor>.<patch> instead."""
    info = module_info("kubernetes", "k8s.io/kubernetes", version, cache, log, "the tag of kind_cluster_node_image")
    staging = re.findall(r"^\s*(k8s\.io/[\w.-]+)\s+=>\s+\./staging/", Path(info["GoMod"]).read_text(), re.MULTILINE)
    if not staging:
        raise BuildFailed("kubernetes", f"no staging modules found in the go.mod of k8s.io/kubernetes@{version}")
    published = "v0." + version.split(".", 1)[1]
    return {module: published for module in staging}


def upstream_replaces(part: str, module: str, version: str, cache: Cache, log: Path) -> dict[str, str]:
    """The replace directives of module@version's go.mod that point at another module's version (a fork), which a
    consumer module does not inherit: {"github.com/abbot/go-http-auth": "github.com/containous/go-http-auth v0.4.1-...}.
    Replacements by a local path are left out (the module zip has no such folder; see kubernetes_staging_replaces)."""
    info = module_info(part, module, version, cache, log)
    edit = subprocess.run(["go", "mod", "edit", "-json", info["GoMod"]], capture_output=True, text=True, check=False,
                          env={**os.environ, **cache.go_env()})
    if edit.returncode != 0:
        raise BuildFailed(part, f"`go mod edit -json` could not read the go.mod of {module}@{version}: {edit.stderr.strip()}")
    return {replace["Old"]["Path"]: f"{replace['New']['Path']} {replace['New']['Version']}"
            for replace in json.loads(edit.stdout).get("Replace") or [] if replace["New"].get("Version")}
