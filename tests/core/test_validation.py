"""One failing fixture per validation rule, each naming the line and message it must produce."""

from pathlib import Path

import pytest

from vpstage.config import ConfigError
from vpstage.stage import Stage

FIXTURES = Path(__file__).parent / "fixtures" / "invalid"


def _expectation(path: Path) -> tuple[str, int, str]:
    first = path.read_text().splitlines()[0]
    kind, rest = first[2:].split(": ", 1)
    where, message = rest.split(": ", 1)
    if kind == "expect-file":
        file, line = where.rsplit(":", 1)
        return str(FIXTURES / file), int(line), message
    return str(path), int(where), message


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_fixture_reports_location(fixture: Path) -> None:
    file, line, message = _expectation(fixture)
    with pytest.raises(ConfigError) as info:
        Stage.open(fixture)
    formatted = [p.format() for p in info.value.problems]
    prefix = f"{Path(file).resolve()}:{line}:" if file != str(fixture) else f"{file}:{line}:"
    matching = [f for f in formatted if f.startswith(prefix) and message in f]
    assert matching, f"expected '{prefix} ... {message}' in:\n" + "\n".join(formatted)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = (FIXTURES / "overlap.yaml").read_text().replace("node: n1}", "node: nobody}")
    text = text.replace("panel: unilumin-upad3-2.6", "panel: nope", 1)
    (tmp_path / "many.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        Stage.open(tmp_path / "many.yaml")
    messages = " | ".join(p.message for p in info.value.problems)
    assert "unknown panel type 'nope'" in messages
    assert "'nobody' is not a render node" in messages


def test_missing_project_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        Stage.open(tmp_path / "absent.yaml")
