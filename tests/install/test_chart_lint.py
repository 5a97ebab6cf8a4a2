"""chart-testing's `ct lint`, which cannot be installed here, done by hand: Chart.yaml's fields,
`helm lint --strict` with every ci/ values file, yamllint with ct's rules, and the Helm best
practices the chart follows (every value commented, starting with its name; a strict schema).
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
from typing import Any

import pytest
import yaml
from yamllint import config, linter  # type: ignore[import-untyped]  # ct runs it too

from tests.install import charts

CI_VALUES = sorted((charts.CHART / "ci").glob("*-values.yaml"))
SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")

# ct's default lintconf.yaml, less its document-start rule (values files need no `---`).
YAMLLINT_CONFIG = """
rules:
  braces: {min-spaces-inside: 0, max-spaces-inside: 1}
  brackets: {min-spaces-inside: 0, max-spaces-inside: 0}
  colons: {max-spaces-before: 0, max-spaces-after: 1}
  commas: {max-spaces-before: 0, min-spaces-after: 1, max-spaces-after: 1}
  comments: {require-starting-space: true, min-spaces-from-content: 1}
  document-end: disable
  document-start: disable
  empty-lines: {max: 2, max-start: 0, max-end: 0}
  hyphens: {max-spaces-after: 1}
  indentation: {spaces: consistent, indent-sequences: whatever}
  key-duplicates: enable
  line-length: disable
  new-line-at-end-of-file: enable
  new-lines: {type: unix}
  trailing-spaces: enable
  truthy: {allowed-values: ["true", "false"], check-keys: false}
"""


def test_ci_values_cover_the_modes() -> None:
    names = {path.name for path in CI_VALUES}
    assert {
        "default-values.yaml",
        "namespaced-values.yaml",
        "servicemonitor-values.yaml",
        "no-crds-values.yaml",
    } <= names


def test_chart_yaml_has_what_ct_requires() -> None:
    chart = yaml.safe_load((charts.CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == charts.CHART.name
    assert SEMVER.match(chart["version"]), chart["version"]
    assert isinstance(chart["appVersion"], str)
    assert chart["appVersion"]
    assert chart["description"].strip()
    assert chart["type"] == "application"
    assert chart["maintainers"], "ct requires maintainers"
    assert all(m.get("name") for m in chart["maintainers"])


@pytest.mark.parametrize("values", CI_VALUES, ids=[p.name for p in CI_VALUES])
def test_helm_lint_strict(values: pathlib.Path) -> None:
    done = subprocess.run(
        [str(charts.helm()), "lint", "--strict", str(charts.CHART), f"--values={values}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[WARNING]" not in done.stdout, done.stdout
    assert "[ERROR]" not in done.stdout, done.stdout


def test_yamllint() -> None:
    conf = config.YamlLintConfig(YAMLLINT_CONFIG)
    files = [charts.CHART / "Chart.yaml", charts.CHART / "values.yaml", *CI_VALUES]
    problems = [
        f"{path.relative_to(charts.REPO)}:{problem.line}: {problem.desc}"
        for path in files
        for problem in linter.run(path.read_text(), conf)
    ]
    assert not problems, "\n".join(problems)


def _keys(node: yaml.Node, path: str = "") -> list[tuple[str, str, int]]:
    """(dotted path, key, line) of every mapping key under ``node``."""
    found: list[tuple[str, str, int]] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            dotted = f"{path}.{key.value}" if path else str(key.value)
            found.append((dotted, str(key.value), key.start_mark.line))
            found.extend(_keys(value, dotted))
    return found


def test_every_value_is_commented_starting_with_its_name() -> None:
    text = (charts.CHART / "values.yaml").read_text()
    lines = text.splitlines()
    undocumented = []
    root = yaml.compose(text)
    assert root is not None
    for dotted, key, line in _keys(root):
        above = line - 1
        block: list[str] = []
        while above >= 0 and lines[above].strip().startswith("#"):
            block.insert(0, lines[above].strip())
            above -= 1
        if not block or not block[0].removeprefix("#").strip().startswith(key):
            undocumented.append(f"{dotted} (line {line + 1})")
    assert not undocumented, "values without a comment starting with their name: " + ", ".join(
        undocumented
    )


def _schema_gaps(schema: dict[str, Any], path: str = "") -> list[str]:
    gaps = []
    if "properties" in schema:
        if schema.get("additionalProperties") is not False:
            gaps.append(f"{path or '(root)'}: additionalProperties is not false")
        for name, sub in schema["properties"].items():
            where = f"{path}.{name}" if path else name
            if path == "" and "description" not in sub:
                gaps.append(f"{where}: no description")
            gaps.extend(_schema_gaps(sub, where))
    return gaps


def test_values_schema_is_strict_and_covers_every_value() -> None:
    schema = json.loads((charts.CHART / "values.schema.json").read_text())
    assert not _schema_gaps(schema), _schema_gaps(schema)
    values = yaml.safe_load((charts.CHART / "values.yaml").read_text())

    def missing(vals: dict[str, Any], node: dict[str, Any], path: str) -> list[str]:
        out = []
        for key, value in vals.items():
            props = node.get("properties")
            if props is None:
                continue  # a free-form object (annotations, selectors, resources)
            if key not in props:
                out.append(f"{path}{key}")
            elif isinstance(value, dict):
                out.extend(missing(value, props[key], f"{path}{key}."))
        return out

    assert not missing(values, schema, ""), missing(values, schema, "")


def test_one_kind_per_template_file() -> None:
    everything = {"watchNamespaces": ["a"], "serviceMonitor": {"enabled": True}}
    done = charts.template(everything)
    assert done.returncode == 0, done.stderr
    kinds: dict[str, set[str]] = {}
    for text, obj in charts.documents(done.stdout):
        source = re.search(r"^# Source: (.+)$", text, re.MULTILINE)
        assert source, text[:200]
        kinds.setdefault(source.group(1), set()).add(obj["kind"])
    assert {src: k for src, k in kinds.items() if len(k) > 1} == {}
