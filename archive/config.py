"""One settings object for the whole archive (environment variables prefixed ``ARCHIVE_``).

It is created once by the composition root (CLI, API factory, worker) and passed into
constructors; nothing deep inside the core reads the environment.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MEDIA_TYPES = (
    "application/pdf",
    "application/xml",
    "image/jpeg",
    "image/png",
    "image/tiff",
)

_INSECURE_SECRETS = {"", "change-me", "minioadmin", "secret"}


class Settings(BaseSettings):
    # ARCHIVE_CONFIG names an env file (``KEY=value`` lines, the same ARCHIVE_ names) that an
    # installation keeps its settings in, so that commands run from any folder find the
    # archive; variables set in the environment win over the file.
    model_config = SettingsConfigDict(env_prefix="ARCHIVE_", extra="ignore",
                                      env_file=os.environ.get("ARCHIVE_CONFIG") or None,
                                      env_file_encoding="utf-8")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("./var")
    database_url: str | None = None
    # A read replica (a PostgreSQL hot standby) for searches, listings and evidence packs.
    # A search reads it while it is at most replica_max_lag_seconds behind; a pack only
    # once it has replayed everything committed before the pack is built; otherwise they
    # read the primary. Everything else (and every write) goes to DATABASE_URL.
    database_replica_url: str | None = None
    replica_max_lag_seconds: float = Field(default=30.0, ge=0)

    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "evidence"
    s3_secure: bool = False
    s3_region: str | None = None

    max_upload_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    allowed_media_types: tuple[str, ...] = DEFAULT_MEDIA_TYPES
    # Receiving an upload's body: at most this long without a byte (408), this long in
    # all (408), and this many uploads of one account at once in one process (429).
    upload_idle_timeout_seconds: float = Field(default=30.0, gt=0)
    upload_max_seconds: float = Field(default=3600.0, gt=0)
    uploads_per_account: int = Field(default=4, ge=1)
    # A batch upload (POST /api/v1/evidence/batch): at most this many files and bytes in
    # one request (each file also within max_upload_bytes); it holds one upload slot.
    batch_max_items: int = Field(default=100, ge=1)
    batch_max_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    # Files up to this size are spooled in memory during upload; larger ones on disk.
    spool_memory_bytes: int = 4 * 1024 * 1024
    # Downloads are hashed against the archive's SHA-256 before anything is sent when the
    # object is at most this large (a mismatch is answered 502 integrity_failure); larger
    # ones are hashed while streaming and the response is aborted before its last bytes.
    verify_before_send_bytes: int = Field(default=4 * 1024 * 1024, ge=0)
    # Until the retention schedule of a record is known, blobs are locked for this long.
    default_retention_years: int = 10
    # The store lock of new evidence bytes never ends sooner than this (see
    # archive.evidence.service.new_bytes_lock); the retention jobs keep it this far ahead
    # while a record's date is not final (audit not closed, hold, cannot compute).
    lock_min_horizon_days: int = Field(default=365, ge=30)

    secret_key: SecretStr = SecretStr("change-me")
    tsa_url: str | None = None

    # Workers and scheduled jobs.
    job_lease_seconds: int = Field(default=300, ge=1)
    job_retry_base_seconds: float = Field(default=5.0, gt=0)   # backoff 5 s, 10 s, 20 s …
    worker_concurrency: int = Field(default=2, ge=1)
    # `archive worker` lowers its CPU priority by this much (nice), and so do the programs
    # its jobs run (OCR, Ghostscript): where workers share cores with the API, background
    # jobs wait for a free core, people asking the API do not. 0: normal priority.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # Workers write a heartbeat this often; 3 missed beats read "stalled", 10 "dead".
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    embedded_worker: bool = True        # `archive serve` runs a worker and the scheduler
    # A standby scheduler tries to become the active one this often (and the active one
    # checks that it still is): the longest a schedule goes unattended after its leader dies.
    scheduler_poll_seconds: float = Field(default=10.0, gt=0)
    fixity_cycle_days: int = Field(default=30, ge=1)
    fixity_max_mbps: float = Field(default=50.0, gt=0)
    probe_retention_seconds: int = Field(default=60, ge=1)
    # `archive audit verify`: an event may wait this long for a checkpoint (written hourly)
    # before the wait is reported; a store with no checkpoint under an older trail is broken.
    audit_checkpoint_max_gap_hours: float = Field(default=3.0, gt=0)
    timezone: str = "Asia/Bangkok"
    # PEM files of certificates trusted as signature roots (nothing else is trusted).
    trust_roots: tuple[Path, ...] = ()
    # Codes of local administrative organisations (a regular expression, matched in
    # full): by default the DLA's organisation code (รหัส อปท.), seven digits, as in its
    # register of LAOs. Offices (DLA, provincial) keep the general 1–32 character codes.
    lao_code_pattern: str = r"[0-9]{7}"

    @model_validator(mode="after")
    def _lao_code_pattern_compiles(self) -> Settings:
        try:
            re.compile(self.lao_code_pattern)
        except re.error as exc:
            raise ValueError(f"ARCHIVE_LAO_CODE_PATTERN is not a regular expression: {exc}"
                             ) from None
        return self

    # OCR of scans (the `ocr` job after inspection, archive/inspection/ocr.py): the
    # commands (looked up on PATH), Tesseract's languages, and the limits of one run: pages
    # and megapixels per page (measured from headers before decoding), CPU seconds, wall
    # seconds and memory of the sandboxed child and the OCRmyPDF process group it starts.
    ocr_enabled: bool = True
    ocr_command: str = "ocrmypdf"
    ocr_tesseract_command: str = "tesseract"
    ocr_languages: str = "tha+eng"
    ocr_max_pages: int = Field(default=50, ge=1)
    ocr_max_megapixels: float = Field(default=60.0, gt=0)
    ocr_cpu_seconds: int = Field(default=180, ge=1)
    ocr_wall_seconds: float = Field(default=240.0, gt=0)
    ocr_memory_mb: int = Field(default=2048, ge=256)

    # GET /metrics: the scrape token Prometheus sends as a bearer token (an administrator's
    # API token is accepted too). Without one configured, only administrators may scrape.
    metrics_token: SecretStr | None = None
    # The HTTP server's own limits (`archive serve`): a request head must arrive complete
    # within header_timeout_seconds and be at most max_header_bytes; an idle kept-alive
    # connection is closed after keep_alive_seconds.
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    max_header_bytes: int = Field(default=32 * 1024, ge=4096)
    keep_alive_seconds: int = Field(default=5, ge=1)
    # Failed authentications from one address per minute before it is refused (429).
    auth_failures_per_minute: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.env == "production":
            if self.secret_key.get_secret_value() in _INSECURE_SECRETS:
                raise ValueError("ARCHIVE_SECRET_KEY must be set to a real secret in production")
            if self.s3_endpoint and (self.s3_secret_key is None or
                                     self.s3_secret_key.get_secret_value() in _INSECURE_SECRETS):
                raise ValueError("ARCHIVE_S3_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def embedded_database(self) -> Path | None:
        """The SQLite file of the embedded default; ``None`` with ``DATABASE_URL``."""
        return None if self.database_url else (self.data_dir / "archive.db").resolve()

    @cached_property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'archive.db').resolve()}"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def temp_dirs(self) -> list[Path]:
        """Where temporary files live (and where a crash leaves them)."""
        return [self.tmp_dir, self.objects_dir / ".tmp"]
