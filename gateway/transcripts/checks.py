"""``linkage config check`` validations for transcription (listed in ``gateway.config.checks``)."""

from __future__ import annotations

from gateway.config import Config
from gateway.transcripts.worker import load_hook
from speech import ModelError
from speech.model import check_model_dir


def check_transcripts(config: Config) -> list[str]:
    """The hook must import; a model folder that exists must be a Vosk model (a missing one is
    reported by the workers at start, so hosts without speech still pass)."""
    errors: list[str] = []
    gw = config.config_dir / "gateway.yaml"
    if config.gateway.transcripts.hook:
        try:
            load_hook(config.gateway.transcripts.hook)
        except ValueError as exc:
            errors.append(f"{gw}: transcripts.hook: {exc}")
    path = config.speech_model_path
    if path.exists():
        try:
            check_model_dir(path)
        except ModelError as exc:
            errors.append(f"{gw}: speech.model_path: {exc}")
    return errors


def warn_transcripts(config: Config) -> list[str]:
    """No speech model: the gateway runs, but nothing is transcribed and overflow screening sends
    every caller to 110."""
    path = config.speech_model_path
    if path.exists():
        return []
    return [f"{config.config_dir / 'gateway.yaml'}: speech.model_path: no Vosk model at {path} "
            f"(set ${config.gateway.speech.model_path_env}); until there is one, recordings are not "
            "transcribed and overflow screening sends every caller to 110"]
