"""Config files: YAML with source lines (bounded), problem reports, atomic saves."""

from vpstage.config.atomic import atomic_write_bytes, atomic_write_text
from vpstage.config.problems import ConfigError, Problem, format_path
from vpstage.config.yaml_io import DEFAULT_YAML_LIMITS, LineIndex, YamlLimits, load_yaml, parse_yaml, validate_model

__all__ = [
    "DEFAULT_YAML_LIMITS",
    "ConfigError",
    "LineIndex",
    "Problem",
    "YamlLimits",
    "atomic_write_bytes",
    "atomic_write_text",
    "format_path",
    "load_yaml",
    "parse_yaml",
    "validate_model",
]
