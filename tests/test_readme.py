"""The README agrees with the scripts and outputs it shows.

A newcomer reads the README top-down: the two set-up commands, then the
quickstart. Its code is examples/quickstart.py, and the outputs it shows are
the files docs/build_assets.py stored when it ran the examples; CI runs the
README's test command (.ci/run).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language=None):
    """The README's fenced blocks, in order, as (language, text, first line)."""
    found = []
    for match in FENCE.finditer(README):
        if language is None or match.group(1) == language:
            line = README.count("\n", 0, match.start()) + 1
            found.append((match.group(1), match.group(2), line))
    return found


def section(title):
    """The README's text from heading ``## title`` to the next ``## ``."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def script_body(path):
    """A script's code below its module docstring."""
    text = (ROOT / path).read_text(encoding="utf-8")
    return text.split('"""', 2)[2].lstrip("\n")


def test_quickstart_starts_in_the_first_40_lines():
    line = README.splitlines().index("## Quickstart") + 1
    assert line <= 40, f"the quickstart starts at line {line}"


def test_quickstart_is_examples_quickstart_py():
    _, code, _ = blocks("python")[0]
    assert code in section("Quickstart")
    assert code == script_body("examples/quickstart.py")


def test_tables_block_is_examples_tables_intervals_py():
    _, code, _ = blocks("python")[1]
    assert code in section("Tables, intervals and files, in a few lines")
    assert code == script_body("examples/tables_intervals.py")


def test_shown_outputs_are_the_stored_ones():
    # Each output the README shows is a file docs/build_assets.py wrote.
    plain = [text for language, text, _ in blocks("")]
    for name in ("quickstart.txt", "demo.txt", "tables_intervals.txt"):
        stored = (ROOT / "docs" / "generated" / name).read_text(encoding="utf-8")
        assert stored in plain, f"the README does not show docs/generated/{name} as it is"
        assert f"docs/generated/{name}" in README


def test_two_commands_and_the_test_command_is_the_one_ci_runs():
    _, commands, _ = blocks("bash")[0]
    assert commands in section("Set-up: two commands")
    lines = [line for line in commands.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 2
    demo, tests = lines
    assert demo.endswith("python examples/demo.py") and " -e . " in demo
    assert '-e ".[dev]"' in tests and tests.endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'python -m pip install --quiet -e ".[dev]" && python -m pytest' in ci


def test_named_result_files_exist():
    # Every results file or generated output the README cites is in the repository.
    for path in sorted(set(re.findall(r"`((?:benchmarks/results|docs/generated)/[^`]+)`", README))):
        assert (ROOT / path).exists(), path
