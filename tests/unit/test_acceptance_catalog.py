"""The acceptance suite's own helpers: the catalog's placeholder matcher, its schema check, and the comparison
of served texts with a case (no stack needed)."""
from __future__ import annotations

import textwrap

import pytest

from tests.acceptance.uat.catalog import CatalogError, load_catalog
from tests.acceptance.uat.checks import CaseTexts
from tests.acceptance.uat.texts import match_text, text_pattern

# --- the placeholder matcher ---------------------------------------------------------------------

def test_a_text_without_placeholders_matches_only_itself():
    pattern = text_pattern("Use one of: GET, HEAD, OPTIONS.")
    assert pattern.fullmatch("Use one of: GET, HEAD, OPTIONS.")
    assert not pattern.fullmatch("Use one of: GET, HEAD, OPTIONS, POST.")
    assert not pattern.fullmatch("Use one of: GET, HEAD, OPTIONS")


def test_the_match_is_full_never_a_part():
    pattern = text_pattern("Only staff may do this.")
    assert not pattern.fullmatch("Sorry. Only staff may do this.")
    assert not pattern.fullmatch("Only staff may do this. Ask one.")


@pytest.mark.parametrize("text, lookalike", [
    # Each lookalike would match if the text were taken as a regular expression.
    ("limit must be an integer, for example ?limit=20.", "limit must be an integer, for examplelimit=20!"),
    ("letters, digits, '_' or '-' (a+b)*[x]|$^", "letters, digits, '_' or '-' aabx"),
    ('Example body: {"status": "COMPLETED"}', 'Example body: {"status": "CANCELED"}'),
])
def test_regex_characters_and_json_braces_are_literal(text, lookalike):
    assert match_text((text,), text) == {}
    assert match_text((text,), lookalike) is None


def test_a_placeholder_matches_any_non_empty_run_and_returns_it():
    assert match_text(("From {status} the allowed next statuses are {allowed}.",),
                      "From IN_DELIVERY the allowed next statuses are COMPLETED, CANCELED.") == {
        "status": "IN_DELIVERY", "allowed": "COMPLETED, CANCELED"}


def test_a_placeholder_never_matches_nothing():
    assert match_text(("Delivery '{delivery_id}' was not found.",), "Delivery '' was not found.") is None


def test_a_placeholder_may_stand_for_punctuation_and_newlines():
    assert match_text(("Order {order_id} was not found.",), "Order \"' OR 1=1\nx\" was not found.") == {
        "order_id": "\"' OR 1=1\nx\""}


def test_a_name_used_twice_means_the_same_value():
    text = "{status} is final: {status} stays."
    assert match_text((text,), "COMPLETED is final: COMPLETED stays.") == {"status": "COMPLETED"}
    assert match_text((text,), "COMPLETED is final: CANCELED stays.") is None


def test_the_first_matching_variant_wins_and_none_matching_is_none():
    variants = ("limit='{limit}' is not allowed.", "cursor is not a cursor this service issued.")
    assert match_text(variants, "limit='0' is not allowed.") == {"limit": "0"}
    assert match_text(variants, "cursor is not a cursor this service issued.") == {}
    assert match_text(variants, "status='x' is not allowed.") is None
    assert match_text((), "anything") is None


# --- comparing served texts with a case ----------------------------------------------------------

def write_catalog(tmp_path, cases_yaml: str):
    path = tmp_path / "catalog.yaml"
    path.write_text("cases:\n" + textwrap.indent(textwrap.dedent(cases_yaml), "  "), encoding="utf-8")
    return path


NORMAL = """
- id: CASE-0001
  title: A delivery moves
  feature: status moves
  kind: normal
  steps: [Move it.]
  expected: 200 with the new status.
"""
ABNORMAL = """
- id: CASE-0002
  title: A finished delivery cannot move
  feature: status moves
  kind: abnormal
  steps: [Move a completed delivery.]
  expected: 409 problem.
"""


def abnormal_case(tmp_path, told_yaml: str):
    path = write_catalog(tmp_path, NORMAL + ABNORMAL + textwrap.indent(textwrap.dedent(told_yaml), "  "))
    return load_catalog(path)["CASE-0002"]


def test_texts_agree_on_a_placeholder_across_title_detail_and_hint(tmp_path):
    case = CaseTexts(abnormal_case(tmp_path, """
        error_title: Status Change Not Allowed
        error: The delivery is {status} and cannot move to {wanted}.
        hint: "{status} is final: no further status change is allowed."
        """))
    values = case.assert_told(error_title="Status Change Not Allowed",
                              error="The delivery is COMPLETED and cannot move to CANCELED.",
                              hint="COMPLETED is final: no further status change is allowed.")
    assert values == {"status": "COMPLETED", "wanted": "CANCELED"}
    with pytest.raises(AssertionError, match="{status}"):
        case.assert_told(error="The delivery is COMPLETED and cannot move to CANCELED.",
                         hint="CANCELED is final: no further status change is allowed.")


def test_a_mismatch_names_the_served_and_the_catalog_texts(tmp_path):
    case = CaseTexts(abnormal_case(tmp_path, """
        error: The delivery is {status} and cannot move to {wanted}.
        hint: "Allowed next statuses: {allowed}."
        """))
    served = "From IN_DELIVERY the allowed next statuses are COMPLETED, CANCELED."
    with pytest.raises(AssertionError) as failure:
        case.assert_told(hint=served)
    assert served in str(failure.value) and "Allowed next statuses: {allowed}." in str(failure.value)
    assert [(c.key, c.matched) for c in case.comparisons] == [("hint", False)]


def test_a_text_the_catalog_does_not_have_never_matches(tmp_path):
    case = CaseTexts(abnormal_case(tmp_path, """
        error: Please enter your {missing}.
        hint: Enter the ID you want.
        """))
    with pytest.raises(AssertionError, match="error_title"):
        case.assert_told(error_title="Invalid Credentials")
    with pytest.raises(AssertionError, match="error: served None"):
        case.assert_told(error=None)


# --- the catalog's schema --------------------------------------------------------------------------

def test_the_real_catalog_gives_every_abnormal_case_an_error_and_a_hint():
    cases = load_catalog()
    abnormal = [case for case in cases.values() if case.kind == "abnormal"]
    assert abnormal
    assert all(case.error and case.hint for case in abnormal)
    assert not any(case.error or case.hint or case.error_title for case in cases.values() if case.kind == "normal")


@pytest.mark.parametrize("told_yaml, problem", [
    ("error: Only staff may do this.", "needs hint"),
    ("hint: Log in with a staff account.", "needs error"),
    ("error: []\nhint: Log in.", "error must be a text or a non-empty list"),
    ("error: ['Only staff.', '']\nhint: Log in.", "error must be a text or a non-empty list"),
    ("error: Only staff.\nhint: '{anything}'", "has nothing but placeholders"),
    ("error: Only staff.\nhint: Log in.\nerror_title: 403", "error_title must be a text"),
])
def test_an_abnormal_case_without_its_texts_is_refused(tmp_path, told_yaml, problem):
    with pytest.raises(CatalogError, match=problem):
        abnormal_case(tmp_path, told_yaml)


def test_a_normal_case_with_an_error_text_is_refused(tmp_path):
    path = write_catalog(tmp_path, NORMAL + "  hint: Nothing to fix.\n" + ABNORMAL + "  error: x\n  hint: y\n")
    with pytest.raises(CatalogError, match="a normal case has no hint"):
        load_catalog(path)


def test_variants_and_single_texts_load_as_tuples(tmp_path):
    case = abnormal_case(tmp_path, """
        error_title: Unauthorized
        error:
          - The access token is malformed or not signed by this service.
          - "The Authorization header must be 'Bearer <token>'."
        hint: >-
          Log in with POST /order-ms/login {"user_id": "...", "password": "..."}.
        """)
    assert case.error_title == ("Unauthorized",)
    assert case.error == ("The access token is malformed or not signed by this service.",
                          "The Authorization header must be 'Bearer <token>'.")
    assert case.hint == ('Log in with POST /order-ms/login {"user_id": "...", "password": "..."}.',)
