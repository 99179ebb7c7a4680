"""Configuration: YAML files under ``config/``, validated, secrets from the environment."""

from gateway.config.loader import ConfigError, default_config_path, load_config
from gateway.config.models import Config

__all__ = ["Config", "ConfigError", "default_config_path", "load_config"]
