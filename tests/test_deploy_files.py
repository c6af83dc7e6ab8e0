"""The production files nobody can run here (no Docker engine): docker-compose.yml, the
Dockerfile and .env.example are checked against the code they configure."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from archive.config import Settings
from cli.main import app

ROOT = Path(__file__).resolve().parents[1]
APP_IMAGE = "evidence-archive:latest"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def app_services(compose: dict) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items()
            if svc.get("image") == APP_IMAGE}


def test_every_archive_variable_is_a_setting(compose):
    settings = {f"ARCHIVE_{name.upper()}" for name in Settings.model_fields}
    for name, svc in app_services(compose).items():
        unknown = {k for k in svc["environment"] if k.startswith("ARCHIVE_")} - settings
        assert not unknown, f"{name}: {unknown} are not fields of archive.config.Settings"


def test_app_services_build_the_image_and_run_real_commands(compose):
    services = app_services(compose)
    assert {"migrate", "api", "worker", "scheduler"} <= set(services)
    runner = CliRunner()
    for name, svc in services.items():
        # a service that only names a locally built image is pulled, and fails, on a
        # fresh `docker compose up`
        assert svc.get("build") == "." and svc.get("pull_policy") == "build", name
        command = svc["command"]
        assert command[0] == "archive", name
        words = list(itertools.takewhile(lambda w: not w.startswith("-"), command[1:]))
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, f"{name}: `archive {' '.join(words)}` — {result.output}"
        assert svc["environment"]["ARCHIVE_EMBEDDED_WORKER"] == "false", name


def test_services_wait_for_what_they_need(compose):
    services = compose["services"]
    for name in ("api", "worker"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["minio-init"]["condition"] == "service_completed_successfully"
    init = " ".join(services["minio-init"]["entrypoint"].split())
    assert "mc mb" in init and "--with-lock" in init      # Object Lock only at creation


def test_images_are_pinned(compose):
    for name, svc in compose["services"].items():
        image = svc["image"]
        if image == APP_IMAGE:
            continue
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"


def test_required_secrets_are_in_env_example(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    example = {line.split("=", 1)[0] for line in
               (ROOT / ".env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert required and required <= example, required - example


def test_dockerfile_copies_every_package_and_runs_the_cli():
    dockerfile = (ROOT / "Dockerfile").read_text()
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, f"Dockerfile misses {package}/"
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd is not None and json.loads(cmd.group(1))[0] == "archive"
