"""Load and validate the YAML files; every error names its file and key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gateway.config.models import AgenciesFile, Config, DeadlinesFile, GatewayFile, HolidaysFile

M = TypeVar("M", bound=BaseModel)

CONFIG_ENV = "LINKAGE_CONFIG"


class ConfigError(Exception):
    """One or more configuration errors, each ``file: key: message``."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


def default_config_path() -> Path:
    """``$LINKAGE_CONFIG``, else ``./config/gateway.yaml``, else the one beside the package."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / "config" / "gateway.yaml"
    if local.exists():
        return local
    return Path(__file__).resolve().parents[2] / "config" / "gateway.yaml"


def _read_yaml(path: Path, errors: list[str]) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        errors.append(f"{path}: file not found")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        errors.append(f"{path}:{where} invalid YAML: {getattr(exc, 'problem', exc)}")
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        errors.append(f"{path}: top level must be a mapping, got {type(data).__name__}")
        return None
    return data


def _validate(model: type[M], path: Path, errors: list[str]) -> M | None:
    data = _read_yaml(path, errors)
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top)"
            errors.append(f"{path}: {key}: {err['msg']}")
        return None


def load_config(path: str | Path | None = None) -> Config:
    """Load ``gateway.yaml`` and the files it names; raise :class:`ConfigError` listing all errors."""
    gw_path = Path(path) if path else default_config_path()
    gw_path = gw_path.resolve()
    errors: list[str] = []
    gateway = _validate(GatewayFile, gw_path, errors)
    base = gw_path.parent
    # Check the other files even when gateway.yaml is wrong, so one run lists every error.
    names = gateway or GatewayFile.model_construct()
    agencies = _validate(AgenciesFile, base / names.agencies, errors)
    deadlines = _validate(DeadlinesFile, base / names.deadlines, errors)
    holidays = _validate(HolidaysFile, base / names.holidays, errors)
    if errors or gateway is None:
        raise ConfigError(errors)
    data_dir = Path(gateway.data_dir)
    if not data_dir.is_absolute():
        data_dir = (base / data_dir).resolve()
    return Config(
        config_dir=base,
        data_dir=data_dir,
        gateway=gateway,
        agencies=agencies,
        deadlines=deadlines,
        holidays=holidays,
    )
