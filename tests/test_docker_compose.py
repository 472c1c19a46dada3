"""docker-compose.yml and the Dockerfile, checked statically (no container engine runs on the test
machines): MongoDB as a replica set that initiates itself, a health check the LRS waits for, and an LRS
service whose environment, ports and volume match what the image and the settings define."""
from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from service.config import Settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def image_env() -> dict[str, str]:
    """The ENV lines of the Dockerfile's final stage."""
    env = {}
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def _replica_set(compose) -> str:
    command = compose["services"]["mongo"]["command"]
    assert "--replSet" in command, "mongod must run as a replica set (retryable writes, scale-out)"
    return command[command.index("--replSet") + 1]


def test_compose_runs_mongodb_as_a_replica_set_that_initiates_itself_in_its_health_check(compose):
    mongo = compose["services"]["mongo"]
    image, _, tag = mongo["image"].partition(":")
    assert image == "mongo" and int(tag.split(".")[0]) >= 5, "hints on updates and deletes need MongoDB 4.4+"
    name = _replica_set(compose)
    check = mongo["healthcheck"]["test"]
    check = check if isinstance(check, str) else " ".join(check)
    assert "rs.status()" in check and "rs.initiate(" in check
    initiate = re.search(r"rs\.initiate\(\{_id: '([^']+)', members: \[\{_id: 0, host: '([^']+)'\}\]\}\)", check)
    assert initiate, check
    assert initiate.group(1) == name
    assert initiate.group(2) == "mongo:27017", "the member's host is the service name on mongod's port"
    assert mongo["healthcheck"]["retries"] >= 1 and mongo["healthcheck"]["interval"]
    assert any(v.endswith(":/data/db") for v in mongo["volumes"]), "MongoDB's data outlives the container"


def test_the_lrs_waits_for_a_healthy_mongodb_and_connects_to_its_replica_set(compose):
    lrs = compose["services"]["lrs"]
    assert lrs["depends_on"]["mongo"]["condition"] == "service_healthy"
    url = urlsplit(lrs["environment"]["LRS_MONGODB_URL"])
    assert url.scheme == "mongodb" and url.hostname == "mongo" and (url.port or 27017) == 27017
    assert url.path.strip("/"), "the URL names the database"
    assert parse_qs(url.query)["replicaSet"] == [_replica_set(compose)]


def test_every_lrs_variable_in_compose_and_the_image_is_a_setting(compose, image_env):
    known = {"LRS_" + name.upper() for name in Settings.__dataclass_fields__}
    names = set(compose["services"]["lrs"]["environment"]) | {k for k in image_env if k.startswith("LRS_")}
    assert names - known == set()
    Settings.from_env({**image_env, **compose["services"]["lrs"]["environment"]})  # valid values


def test_the_published_ports_and_public_urls_are_the_ports_the_lrs_listens_on(compose, image_env):
    lrs = compose["services"]["lrs"]
    settings = Settings.from_env({**image_env, **lrs["environment"]})
    assert settings.host == "0.0.0.0", "inside a container the LRS must listen on every interface"
    published = dict(p.split(":") for p in lrs["ports"])
    assert published == {str(settings.port): str(settings.port), str(settings.content_port): str(settings.content_port)}
    assert urlsplit(settings.public_url).port == settings.port
    assert urlsplit(settings.content_origin).port == settings.content_port


def test_the_lrs_data_volume_is_its_data_dir(compose, image_env):
    mounts = [v.split(":")[1] for v in compose["services"]["lrs"]["volumes"]]
    assert image_env["LRS_DATA_DIR"] in mounts
    assert set(compose["volumes"]) >= {v.split(":")[0] for s in compose["services"].values() for v in s.get("volumes", ())}


def test_the_image_holds_every_package_the_project_installs():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    copied = re.findall(r"^COPY (\S+) \1$", (REPO / "Dockerfile").read_text(), re.M)
    assert sorted(set(packages) - set(copied)) == []


def test_the_readme_says_how_to_start_it_and_where_the_credential_is():
    readme = (REPO / "README.md").read_text()
    assert "docker compose up" in readme and "docker compose logs lrs" in readme
    assert "http://localhost:8080/xapi/" in readme
