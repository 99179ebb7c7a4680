"""Typed configuration models; every field is checked at load time."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AGENCY_CODE = r"^[a-z][a-z0-9_]*$"
DESK_CODES = ("police", "fire", "medical", "emergency", "hotline")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _hostport(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {value!r}")
    return value


class RedisConfig(_Strict):
    url_env: str = "REDIS_URL"
    key_prefix: str = Field("linkage", pattern=r"^[A-Za-z0-9_.-]+$")
    stream_maxlen: int = Field(100_000, gt=0)
    claim_idle_ms: int = Field(60_000, gt=0)
    max_deliveries: int = Field(5, gt=0)

    def url(self) -> str | None:
        return os.environ.get(self.url_env) or None


class ArchiveConfig(_Strict):
    path: str = "archive.sqlite3"


class RecordingsConfig(_Strict):
    dir: str = "recordings"
    retention_days: int = Field(365, gt=0)


class AmiConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(5038, gt=0, lt=65536)
    username: str = "linkage"
    secret_env: str = "LINKAGE_AMI_SECRET"
    connect_timeout_s: float = Field(5, gt=0)
    ping_interval_s: float = Field(20, gt=0)
    reconnect_initial_s: float = Field(1, gt=0)
    reconnect_max_s: float = Field(30, gt=0)
    action_timeout_s: float = Field(10, gt=0)
    events: str = Field("system,call,agent,user", pattern=r"^(on|off|[a-z]+(,[a-z]+)*)$")

    def secret(self) -> str | None:
        return os.environ.get(self.secret_env) or None


class FastAgiConfig(_Strict):
    listen: str = "127.0.0.1:4573"
    max_connections: int = Field(200, gt=0)
    command_timeout_s: float = Field(30, gt=0)

    _check_listen = field_validator("listen")(classmethod(lambda cls, v: _hostport(v)))


class OverflowConfig(_Strict):
    """Overflow screening IVR (FastAGI script ``overflow_screening``)."""

    hours_12345: str = Field("08:00-20:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$")
    max_record_s: int = Field(60, gt=0)
    silence_s: int = Field(3, gt=0)
    recordings_subdir: str = "overflow"


class AsteriskConfig(_Strict):
    ami: AmiConfig = AmiConfig()
    fastagi: FastAgiConfig = FastAgiConfig()
    overflow: OverflowConfig = OverflowConfig()


class HttpConfig(_Strict):
    listen: str = "127.0.0.1:8080"
    session_ttl_s: int = Field(28_800, gt=0)
    media_url_ttl_s: int = Field(300, gt=0)
    secret_env: str = "LINKAGE_HTTP_SECRET"
    secure_cookies: bool = False  # true when browsers reach the console over HTTPS (a TLS proxy)

    _check_listen = field_validator("listen")(classmethod(lambda cls, v: _hostport(v)))


class HandoverConfig(_Strict):
    answer_timeout_s: float = Field(30, gt=0)
    conference_profile: str = "linkage_bridge"
    context: str = "linkage-handover"
    agent_channel: str = "Local/s@linkage-12345-dial/n"
    return_context: str = "linkage-110-return"
    feature_code: str = "*5"


class SpeechConfig(_Strict):
    model_path_env: str = "LINKAGE_VOSK_MODEL"
    model_path: str = "models/vosk-model-small-cn-0.22"
    sample_rate: int = Field(8000, gt=0)
    end_silence_ms: int | None = Field(600, gt=0)


class TranscriptsConfig(_Strict):
    """Transcription jobs on Redis (claim idle time and delivery cap come from ``redis``)."""

    group: str = Field("transcribers", pattern=r"^[A-Za-z0-9_.-]+$")
    hook: str = Field("", pattern=r"^$|^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    block_ms: int = Field(1000, gt=0)
    job_timeout_s: float = Field(3600, gt=0)


class SecondOpinionConfig(_Strict):
    """Posterior probabilities the corpus models need (``gateway/triage/second_opinion.py``)."""

    desk_min: float = Field(0.5, ge=0, le=1)
    kind_min: float = Field(0.8, ge=0, le=1)
    net_max: float = Field(0.1, ge=0, le=1)
    agency_min: float | None = Field(None, ge=0, le=1)  # None: the keywords' agency stands
    candidate_odds: float | None = Field(100.0, ge=1)  # None: the keywords' order of candidates stands


class TriageConfig(_Strict):
    lexicon: str = "lexicon.yaml"
    review_below: float = Field(0.5, ge=0, le=1)
    danger_corpus: str | None = "triage_corpus"
    danger_threshold: float = Field(0.9, gt=0, lt=1)
    second_opinion: SecondOpinionConfig | None = SecondOpinionConfig()


class GatewayFile(_Strict):
    """``gateway.yaml``."""

    data_dir: str = "../var"
    redis: RedisConfig = RedisConfig()
    archive: ArchiveConfig = ArchiveConfig()
    recordings: RecordingsConfig = RecordingsConfig()
    asterisk: AsteriskConfig = AsteriskConfig()
    http: HttpConfig = HttpConfig()
    handover: HandoverConfig = HandoverConfig()
    speech: SpeechConfig = SpeechConfig()
    transcripts: TranscriptsConfig = TranscriptsConfig()
    triage: TriageConfig = TriageConfig()
    agencies: str = "agencies.yaml"
    deadlines: str = "deadlines.yaml"
    holidays: str = "holidays.yaml"


class Desk(_Strict):
    name: str
    level: Literal[1, 2, 3]


class Agency(_Strict):
    name: str
    level: Literal[1, 2, 3]
    scope: Literal["township", "county"]


class AgenciesFile(_Strict):
    """``agencies.yaml``."""

    desks: dict[str, Desk]
    agencies: dict[str, Agency]

    @field_validator("desks")
    @classmethod
    def _known_desks(cls, v: dict[str, Desk]) -> dict[str, Desk]:
        unknown = sorted(set(v) - set(DESK_CODES))
        if unknown:
            raise ValueError(f"unknown desk codes {unknown}; desks are {list(DESK_CODES)}")
        return v

    @field_validator("agencies")
    @classmethod
    def _codes(cls, v: dict[str, Agency]) -> dict[str, Agency]:
        import re

        bad = [c for c in v if not re.match(AGENCY_CODE, c)]
        if bad:
            raise ValueError(f"agency codes must be lower_snake_case: {bad}")
        if not v:
            raise ValueError("no agencies defined")
        return v


class WorkOrderRule(_Strict):
    days: int = Field(gt=0)
    max_days: int | None = Field(None, gt=0)
    extension_days: int | None = Field(None, gt=0)
    max_extensions: int = Field(0, ge=0)


class ArrivalMinutes(_Strict):
    township: int = Field(30, gt=0)
    level1: int = Field(30, gt=0)
    other: int = Field(40, gt=0)
    county: int = Field(60, gt=0)


class DeadlinesFile(_Strict):
    """``deadlines.yaml``."""

    emergency_handover_minutes: int = Field(10, gt=0)
    arrival_minutes: ArrivalMinutes = ArrivalMinutes()
    work_order_days: dict[Literal["consultation", "help", "suggestion", "complaint", "report"], WorkOrderRule]


class HolidayYear(_Strict):
    """Dates as YAML dates (2027-10-01) or ISO strings."""

    holidays: list[datetime.date] = []
    workdays: list[datetime.date] = []


class HolidaysFile(_Strict):
    """``holidays.yaml``."""

    years: dict[int, HolidayYear] = {}


class Config(BaseModel):
    """The whole, validated configuration with resolved paths."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config_dir: Path
    data_dir: Path
    gateway: GatewayFile
    agencies: AgenciesFile
    deadlines: DeadlinesFile
    holidays: HolidaysFile

    @property
    def redis(self) -> RedisConfig:
        return self.gateway.redis

    @property
    def archive_path(self) -> Path:
        return self.data_dir / self.gateway.archive.path

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / self.gateway.recordings.dir

    @property
    def lexicon_path(self) -> Path:
        return self.config_dir / self.gateway.triage.lexicon

    @property
    def speech_model_path(self) -> Path:
        env = os.environ.get(self.gateway.speech.model_path_env)
        return Path(env) if env else self.data_dir / self.gateway.speech.model_path

    def agency_codes(self) -> set[str]:
        return set(self.agencies.agencies)
