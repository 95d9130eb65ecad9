"""The Docker Engine the tests build, push and run containers with. Never started here: CI starts it."""

from __future__ import annotations

import docker

from .common import PartUnavailable


def connect() -> docker.DockerClient:
    """A client for the local Docker Engine, or PartUnavailable saying how to start one."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        raise PartUnavailable(
            "Docker Engine is not reachable "
            f"({exc.__class__.__name__}: {exc}). Start it (scripts/start-docker.sh, or "
            "'systemctl start docker') and check with 'docker info'."
        ) from exc
    return client


def drop_references(client: docker.DockerClient, reference: str, prefix: str) -> None:
    """Remove the tags and digest references under ``prefix`` of the image ``reference`` names.

    Never removes an image by id: images share layers and ids with the base image other tests use."""
    try:
        image = client.images.get(reference)
    except docker.errors.ImageNotFound:
        return
    for name in image.tags + image.attrs.get("RepoDigests", []):
        if name.startswith(prefix):
            try:
                client.images.remove(name)
            except docker.errors.ImageNotFound:
                pass  # went with the last tag of its repository


def run_on_network(client: docker.DockerClient, image: str, name: str, network: str = "kind",
                   aliases: tuple[str, ...] = (), **kwargs) -> docker.models.containers.Container:
    """Start a container on a Docker network (kind's, by default) that a cluster's nodes are on, reachable from the
    nodes and their pods by its name and by ``aliases`` (Docker's own DNS answers for both), as a server beside a
    cluster is."""
    endpoint = {network: client.api.create_endpoint_config(aliases=list(aliases))}
    return client.containers.run(image, name=name, detach=True, network=network, networking_config=endpoint, **kwargs)


def volumes_left_behind(client: docker.DockerClient, before: set[str]) -> set[str]:
    """The volumes made since ``before`` (a set of names) that no container uses: what a part that was removed left.
    One that a container uses belongs to a part still running, such as the clusters of another pytest run at the same
    time (`--groups`). Volumes are listed before containers: a volume made in between has its container by then."""
    made = {volume.name for volume in client.volumes.list()} - before
    in_use = {mount["Name"] for container in client.containers.list(all=True)
              for mount in container.attrs.get("Mounts") or () if mount.get("Type") == "volume"}
    return made - in_use
