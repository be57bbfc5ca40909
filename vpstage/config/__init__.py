"""Config files: YAML with source lines, problem reports, atomic saves."""

from vpstage.config.atomic import atomic_write_bytes, atomic_write_text
from vpstage.config.problems import ConfigError, Problem, format_path
from vpstage.config.yaml_io import LineIndex, load_yaml, parse_yaml, validate_model

__all__ = [
    "ConfigError",
    "LineIndex",
    "Problem",
    "atomic_write_bytes",
    "atomic_write_text",
    "format_path",
    "load_yaml",
    "parse_yaml",
    "validate_model",
]
