"""The id and timestamp rules every contract and API shares have one home, `contracts.identifiers`: no module takes
them from a particular event's contract, and every id is checked and documented by the same rule."""
import ast
from datetime import datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from services.contracts import asyncapi, delivery_status_changed, identifiers, order_created
from services.platform.timefmt import iso_utc, parse_iso_utc

ROOT = Path(__file__).resolve().parents[3]
SHARED_NAMES = {"UUID", "UUID_PATTERN", "TIMESTAMP", "TIMESTAMP_PATTERN", "TIMESTAMP_FORMAT", "USER_ID", "ORDER_ID"}


def shared_names_taken_from_an_event_contract(path: Path) -> set[str]:
    taken = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module in {"services.contracts.order_created",
                                                                "services.contracts.delivery_status_changed"}:
            taken |= {alias.name for alias in node.names} & SHARED_NAMES
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in SHARED_NAMES \
                and node.value.id in {"order_created", "delivery_status_changed"}:
            taken.add(f"{node.value.id}.{node.attr}")
    return taken


def test_no_module_takes_a_shared_rule_from_an_event_contract():
    offenders = {str(path.relative_to(ROOT)): names for folder in ("services", "tests", "scripts")
                 for path in sorted((ROOT / folder).rglob("*.py"))
                 if (names := shared_names_taken_from_an_event_contract(path))}
    assert offenders == {}


def test_every_uuid_id_follows_the_one_uuid_rule():
    for field in (identifiers.ORDER_ID, delivery_status_changed.DELIVERY_ID, asyncapi.EVENT_ID):
        assert (field.kind, field.pattern, field.rule) == (identifiers.UUID.kind, identifiers.UUID.pattern,
                                                           identifiers.UUID.rule)
        assert field.check("5f0c4c7e-2b1d-4c1e-9a35-2f6a8f1f2b3c") is None
        assert field.check("5F0C4C7E-2B1D-4C1E-9A35-2F6A8F1F2B3C") == "must be a lowercase UUID with dashes"


def test_every_timestamp_follows_the_one_timestamp_rule():
    for field in (order_created.ORDERED_AT, delivery_status_changed.UPDATED_AT):
        assert (field.pattern, field.rule) == (identifiers.TIMESTAMP.pattern, identifiers.TIMESTAMP.rule)
        assert field.check("2026-11-28T15:04:05.123456Z") is None
        assert field.check("2026-11-28 15:04:05") == "must be an ISO-8601 UTC time with microseconds"


def test_the_event_contracts_use_the_shared_id_rules():
    assert order_created.FIELDS["user_id"] is identifiers.USER_ID
    assert order_created.FIELDS["order_id"] is identifiers.ORDER_ID
    assert delivery_status_changed.FIELDS["order_id"] is identifiers.ORDER_ID


# --- one way to read a timestamp, at the cost of fromisoformat, with strptime's answers ---------------------------
_TIMESTAMP_TEXT = st.from_regex(identifiers.TIMESTAMP_PATTERN, fullmatch=True)
# Mostly texts a calendar has, so both branches are exercised: digits from each part's real range and just beyond.
_NEAR_REAL_TIMESTAMP = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z".format,
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 61),
    st.integers(0, 61), st.integers(0, 999_999))


def _strptime_answer(text):
    try:
        return datetime.strptime(text, identifiers.TIMESTAMP_FORMAT)
    except ValueError:
        return "refused"


def _parse_iso_utc_answer(text):
    try:
        return parse_iso_utc(text)
    except ValueError:
        return "refused"


@settings(max_examples=500)
@given(st.one_of(_TIMESTAMP_TEXT, _NEAR_REAL_TIMESTAMP))
def test_parse_iso_utc_reads_every_text_the_pattern_allows_as_strptime_does(text):
    assert identifiers.TIMESTAMP.check(text) is None
    assert _parse_iso_utc_answer(text) == _strptime_answer(text)


@settings(max_examples=300)
@given(st.datetimes(min_value=datetime(1000, 1, 1)))
def test_iso_utc_writes_what_strftime_wrote_and_parse_iso_utc_reads_it_back(moment):
    text = iso_utc(moment)
    assert text == moment.strftime(identifiers.TIMESTAMP_FORMAT)
    assert parse_iso_utc(text) == moment
