"""The layout's rules, checked on the source: the platform names no service, contracts depend only on the
platform, and services import only the platform, the contracts and themselves."""
import ast
import re
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
SERVICE_PACKAGES = ("order_ms", "delivery_ms")
# Anything that belongs to one service: its name, URL prefix, tables and topics.
SERVICE_WORDS = re.compile(
    r"order[-_]ms|delivery[-_]ms|new_orders|delivery_status|order_outbox|delivery_outbox|login_throttle"
    r"|\borders\b|\bdeliver(y|ies)\b|\bconsumer_group\b")


def python_files(package: str) -> list[Path]:
    return sorted((SERVICES / package).rglob("*.py"))


def imported_packages(path: Path) -> set[str]:
    """The second part of every `services.X...` module the file imports (X = platform, contracts, ...)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found.update(name.split(".")[1] for name in names if name.startswith("services.") and name.count(".") >= 1)
    return found


@pytest.mark.parametrize("path", python_files("platform"), ids=lambda p: p.name)
def test_the_platform_imports_only_itself(path):
    assert imported_packages(path) <= {"platform"}


@pytest.mark.parametrize("path", python_files("platform"), ids=lambda p: p.name)
def test_the_platform_names_no_service_table_topic_or_url(path):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        assert not SERVICE_WORDS.search(line), f"{path.name}:{number} names a service: {line.strip()}"


@pytest.mark.parametrize("path", python_files("contracts"), ids=lambda p: p.name)
def test_contracts_depend_only_on_the_platform(path):
    assert imported_packages(path) <= {"platform", "contracts"}


@pytest.mark.parametrize("service", SERVICE_PACKAGES)
def test_a_service_imports_only_the_platform_the_contracts_and_itself(service):
    for path in python_files(service):
        assert imported_packages(path) <= {"platform", "contracts", service}, path.relative_to(SERVICES)


def test_the_consumer_lives_in_delivery_ms():
    assert (SERVICES / "delivery_ms" / "consumer" / "__main__.py").exists()
    assert not (SERVICES / "consumer").exists() and not (SERVICES / "common").exists()


def test_sql_has_one_migrations_folder_per_service():
    sql = SERVICES.parent / "sql"
    assert sorted(p.name for p in sql.iterdir() if p.is_dir()) == sorted(SERVICE_PACKAGES)
    assert not list(sql.glob("*.sql")), "every migration belongs to one service's folder"
