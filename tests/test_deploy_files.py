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


# -- the reverse proxy (issue 15 item 3) ------------------------------------------------

NGINX_CONF = ROOT / "deploy" / "nginx" / "archive.conf"


def _nginx(directive: str, conf: Path = NGINX_CONF) -> list[str]:
    text = "\n".join(line.split("#", 1)[0] for line in conf.read_text().splitlines())
    return [m.strip() for m in re.findall(rf"^\s*{directive}\s+([^;{{}}]+);", text, re.M)]


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m)?", value).groups()  # type: ignore[union-attr]
    return int(number) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[unit]


def _bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[unit.lower()]


def test_only_the_proxy_publishes_ports(compose):
    published = {name for name, svc in compose["services"].items() if svc.get("ports")}
    assert published == {"proxy"}, published
    ports = compose["services"]["proxy"]["ports"]
    assert all(p.endswith((":443", ":80")) for p in ports), ports


def test_the_proxy_mounts_its_config_and_the_certificates(compose):
    proxy = compose["services"]["proxy"]
    mounts = {v.rsplit(":", 2)[1]: v.rsplit(":", 2)[0] for v in proxy["volumes"]}
    assert mounts["/etc/nginx/conf.d/default.conf"] == "./deploy/nginx/archive.conf"
    assert NGINX_CONF.exists()
    tls_source = mounts["/etc/nginx/tls"]
    assert tls_source.startswith("${ARCHIVE_TLS_DIR:?")     # from the environment, required
    for directive in ("ssl_certificate", "ssl_certificate_key"):
        (path,) = _nginx(directive)
        assert path.startswith("/etc/nginx/tls/"), path
    assert _nginx("listen") == ["80", "443 ssl"]


def test_the_proxy_forwards_to_the_api_service_port(compose):
    api = compose["services"]["api"]
    port = api["command"][api["command"].index("--port") + 1]
    assert [s.split()[0] for s in _nginx("server")] == [f"api:{port}"]
    assert _nginx("proxy_pass") == ["http://archive_api"]
    assert "ports" not in api and str(port) in [str(p) for p in api.get("expose", [])]
    # the archive believes X-Forwarded-* only in production, and uvicorn only from allowed
    # addresses: both are set for the api service behind the proxy
    assert api["environment"]["ARCHIVE_ENV"] == "production"
    assert api["environment"]["FORWARDED_ALLOW_IPS"]
    assert "X-Forwarded-For $remote_addr" in _nginx("proxy_set_header")


def test_the_proxy_limits_match_the_archives(compose):
    from api.routers.evidence import _FORM_OVERHEAD

    env = compose["services"]["api"]["environment"]
    settings = Settings(**{k.removeprefix("ARCHIVE_").lower(): v for k, v in env.items()
                           if k in ("ARCHIVE_MAX_UPLOAD_BYTES",
                                    "ARCHIVE_UPLOAD_IDLE_TIMEOUT_SECONDS")})
    (body,) = _nginx("client_max_body_size")
    needed = settings.max_upload_bytes + _FORM_OVERHEAD
    assert needed <= _bytes(body) <= needed + 2 * 1024 ** 2, (body, needed)
    (header_timeout,) = _nginx("client_header_timeout")
    (body_timeout,) = _nginx("client_body_timeout")
    assert _seconds(header_timeout) <= Settings().header_timeout_seconds
    assert _seconds(body_timeout) <= settings.upload_idle_timeout_seconds
    (buffers,) = _nginx("large_client_header_buffers")
    count, size = buffers.split()
    assert int(count) * _bytes(size) <= 4 * Settings().max_header_bytes


def test_archive_serve_sets_the_servers_own_limits():
    from api.server import HeaderTimeoutH11, server_options

    options = server_options(Settings())
    assert options["http"] is HeaderTimeoutH11
    assert options["timeout_keep_alive"] == Settings().keep_alive_seconds
    assert options["h11_max_incomplete_event_size"] == Settings().max_header_bytes
    serve = (ROOT / "cli" / "main.py").read_text()
    assert serve.count("**limits") == 2      # the single- and the multi-process server


# -- the distributed profile (issue 18) -------------------------------------------------

MINIO_CONF = ROOT / "deploy" / "nginx" / "minio.conf"


def _env_example() -> dict[str, str]:
    return dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                if line and not line.startswith("#"))


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${NAME:-default}``, ``${NAME:?message}`` and ``${NAME}``."""
    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        return arg if op == ":-" else ""
    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", one, value)


def _profiles(svc: dict) -> set[str]:
    return set(svc.get("profiles") or [])


def _mounts(svc: dict) -> dict[str, str]:
    """A service's bind mounts: the path in the container → the path on the host."""
    return {v.split(":")[1]: v.split(":")[0] for v in svc["volumes"]}


def _minio_nodes(compose: dict) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items()
            if re.fullmatch(r"minio\d+", name)}


def test_every_service_runs_in_a_known_profile_and_the_default_is_single(compose):
    known = {"single", "distributed"}
    for name, svc in compose["services"].items():
        assert _profiles(svc) <= known, name
    assert _env_example()["COMPOSE_PROFILES"] in known
    # what the app services need exists in both shapes, or is optional
    for profile in known:
        active = {n for n, s in compose["services"].items()
                  if not _profiles(s) or profile in _profiles(s)}
        for name in active:
            deps = compose["services"][name].get("depends_on") or {}
            if isinstance(deps, list):
                deps = dict.fromkeys(deps, {})
            for dep, how in deps.items():
                assert dep in active or how.get("required") is False, (profile, name, dep)


def test_minio_is_a_four_node_erasure_set_with_object_lock(compose):
    nodes = _minio_nodes(compose)
    assert sorted(nodes) == ["minio1", "minio2", "minio3", "minio4"]
    commands = {" ".join(svc["command"].split()) for svc in nodes.values()}
    assert len(commands) == 1                       # every node runs the same server command
    (command,) = commands
    m = re.search(r"http://minio\{(\d+)\.\.\.(\d+)\}:9000(/\S+)", command)
    assert m and (int(m.group(1)), int(m.group(2))) == (1, 4), command
    data = m.group(3)
    volumes = set()
    for name, svc in nodes.items():
        assert _profiles(svc) == {"distributed"}, name
        assert svc["hostname"] == name
        (volume,) = svc["volumes"]
        source, target = volume.split(":")
        assert target == data, (name, volume)
        volumes.add(source)
    assert len(volumes) == 4 and volumes <= set(compose["volumes"])   # a drive each
    # the bucket is created with Object Lock through the same name in both profiles
    init = compose["services"]["minio-init"]
    assert _profiles(init) == {"single", "distributed"}
    assert "http://minio:9000" in init["entrypoint"] and "--with-lock" in init["entrypoint"]
    assert init["depends_on"]["minio-lb"]["required"] is False
    assert init["depends_on"]["minio"]["required"] is False


def test_the_archive_reaches_the_minio_set_through_the_balancer(compose):
    lb = compose["services"]["minio-lb"]
    assert _profiles(lb) == {"distributed"}
    assert "minio" in lb["networks"]["default"]["aliases"]
    assert _profiles(compose["services"]["minio"]) == {"single"}
    host, port = compose["x-archive-env"]["ARCHIVE_S3_ENDPOINT"].split(":")
    assert host == "minio"
    mounts = _mounts(lb)
    assert mounts["/etc/nginx/conf.d/default.conf"] == "./deploy/nginx/minio.conf"
    text = "\n".join(line.split("#", 1)[0] for line in MINIO_CONF.read_text().splitlines())
    upstream = {s.split()[0] for s in re.findall(r"^\s*server\s+([^;{}]+);", text, re.M)}
    assert upstream == {f"{n}:9000" for n in _minio_nodes(compose)}
    assert re.search(rf"^\s*listen\s+{port};", text, re.M)
    assert re.search(r"proxy_set_header\s+Host\s+\$http_host;", text)   # SigV4 signs Host
    assert set(lb["depends_on"]) == set(_minio_nodes(compose))


def test_searches_read_a_streaming_standby(compose):
    primary = compose["services"]["postgres"]
    replica = compose["services"]["postgres-replica"]
    assert _profiles(replica) == {"distributed"} and replica["image"] == primary["image"]
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    mounts = _mounts(replica)
    script = ROOT / mounts[replica["entrypoint"][-1]]
    text = script.read_text()
    for flag in ("--write-recovery-conf", "--wal-method=stream", "--create-slot"):
        assert flag in text, flag
    assert "hot_standby=on" in text and '"$PRIMARY_HOST"' in text
    assert replica["environment"]["PRIMARY_HOST"] == "postgres"
    # the primary creates the role the standby connects as
    init = _mounts(primary)
    (source,) = [s for t, s in init.items() if t.startswith("/docker-entrypoint-initdb.d/")]
    role = replica["environment"]["REPLICATION_USER"]
    init_text = (ROOT / source).read_text()
    assert f"CREATE ROLE {role} WITH REPLICATION" in init_text
    assert f"host replication {role}" in init_text
    # the archive's setting names the standby in the documented example
    env = compose["x-archive-env"]
    assert "ARCHIVE_DATABASE_REPLICA_URL" in env
    example = re.search(r"^# ARCHIVE_DATABASE_REPLICA_URL=(\S+)$",
                        (ROOT / ".env.example").read_text(), re.M)
    assert example is not None
    url = sa_url(example.group(1))
    assert url.host == "postgres-replica" and url.drivername == "postgresql+psycopg"
    assert url.database == sa_url(env["ARCHIVE_DATABASE_URL"]).database
    settings = Settings(database_replica_url=example.group(1),
                        replica_max_lag_seconds=_interpolate(
                            env["ARCHIVE_REPLICA_MAX_LAG_SECONDS"], _env_example()))
    assert settings.database_replica_url and settings.replica_max_lag_seconds == 30


def test_primary_and_standby_run_with_the_archives_postgres_settings(compose):
    """The server's defaults (128 MB of shared buffers, a random page cost for spinning
    disks) are for a small machine; both servers get the same settings, sized in .env."""
    primary = compose["services"]["postgres"]
    replica = compose["services"]["postgres-replica"]
    assert primary["command"] == replica["command"]
    flags = primary["command"]
    assert flags[::2] == ["-c"] * (len(flags) // 2)
    env = _env_example()
    settings = dict(_interpolate(f, env).split("=", 1) for f in flags[1::2])
    assert settings["shared_buffers"] == env["POSTGRES_SHARED_BUFFERS"]
    assert settings["effective_cache_size"] == env["POSTGRES_EFFECTIVE_CACHE_SIZE"]
    assert settings["random_page_cost"] == "1.1"
    # after a restart the cache is refilled with what it held (autoprewarm's default)
    assert "pg_prewarm" in settings["shared_preload_libraries"].split(",")
    # the image's entrypoint starts postgres for arguments that begin with a dash; the
    # standby's script passes its arguments on
    assert flags[0].startswith("-")
    mounts = _mounts(replica)
    script = (ROOT / mounts[replica["entrypoint"][-1]]).read_text()
    assert re.search(r'^exec postgres .*"\$@"$', script, re.M)


def sa_url(text: str):  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    return sa.engine.make_url(text)


def test_api_workers_and_schedulers_scale_by_setting(compose):
    env = _env_example()
    for name, variable in (("api", "ARCHIVE_API_REPLICAS"), ("worker", "ARCHIVE_WORKER_REPLICAS"),
                           ("scheduler", "ARCHIVE_SCHEDULER_REPLICAS")):
        replicas = compose["services"][name]["deploy"]["replicas"]
        assert variable in replicas and variable in env, name
        assert int(_interpolate(replicas, env)) >= 1
        assert int(_interpolate(replicas, {})) >= 1        # a default without .env
    # several API containers sit behind the proxy's one upstream name, looked up again
    # as they come and go (test_the_balancers_follow_the_containers_without_a_reload)
    assert _nginx("server") == ["api:8000 resolve"]


def _nginx_version(image: str) -> tuple[int, ...]:
    match = re.fullmatch(r"nginx:(\d+)\.(\d+)\.(\d+)(-[a-z0-9]+)?", image)
    assert match is not None, f"{image}: pin an exact nginx version"
    return tuple(int(n) for n in match.groups()[:3])


@pytest.mark.parametrize(("service", "conf"), [("proxy", NGINX_CONF), ("minio-lb", MINIO_CONF)])
def test_the_balancers_follow_the_containers_without_a_reload(compose, service: str,
                                                              conf: Path):
    """nginx resolves an upstream's names once, when it starts, unless a server says
    ``resolve``: then scaling the API (or a MinIO node's container replaced) would need
    a reload. Every upstream server is re-resolved through Docker's embedded DNS with a
    short ``valid=``, in a shared-memory group (``zone``, which ``resolve`` requires), on
    an nginx that has ``resolve`` in open source (1.27.3 and later)."""
    image = compose["services"][service]["image"]
    assert _nginx_version(image) >= (1, 27, 3), image
    mounts = _mounts(compose["services"][service])
    assert ROOT / mounts["/etc/nginx/conf.d/default.conf"] == conf
    servers = _nginx("server", conf)
    assert servers and all("resolve" in s.split()[1:] for s in servers), servers
    assert len(_nginx("zone", conf)) == 1
    text = conf.read_text()
    assert len(re.findall(r"^\s*upstream\s+\w+\s*\{", text, re.M)) == 1
    (resolver,) = _nginx("resolver", conf)
    address, *options = resolver.split()
    assert address == "127.0.0.11"             # Docker's embedded DNS on a compose network
    valid = [o.removeprefix("valid=") for o in options if o.startswith("valid=")]
    assert valid and _seconds(valid[0]) <= 30, resolver
    # a variable in proxy_pass would bypass the group (and its keepalive): not used
    assert all("$" not in target for target in _nginx("proxy_pass", conf))
