"""The change-log cursor: rows are released once each, in id order, and a gap (an id allocated by a transaction that
has not committed yet) holds the rows above it for a bounded time only."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.platform.change_cursor import ChangeCursor

HOLD = 5.0


def rows(*ids: int) -> list[dict]:
    return [{"id": i} for i in ids]


def released(batch: list[dict]) -> list[int]:
    return [row["id"] for row in batch]


def test_rows_in_order_are_released_at_once():
    cursor = ChangeCursor(start=10, hold_seconds=HOLD)
    assert released(cursor.admit(rows(11, 12, 13), now=0)) == [11, 12, 13]
    assert cursor.position == 13 and cursor.newest == 13 and cursor.gaps == []


def test_a_row_seen_again_is_not_released_twice():
    cursor = ChangeCursor(start=0, hold_seconds=HOLD)
    cursor.admit(rows(1, 2), now=0)
    assert cursor.admit(rows(1, 2), now=1) == []


def test_a_lower_id_that_commits_after_a_higher_one_is_released_before_it():
    cursor = ChangeCursor(start=0, hold_seconds=HOLD)
    assert released(cursor.admit(rows(1, 3, 4), now=0)) == [1]
    assert cursor.gaps == [2] and cursor.position == 1 and cursor.newest == 4
    assert released(cursor.admit(rows(2), now=1)) == [2, 3, 4]
    assert cursor.position == 4 and cursor.gaps == []


def test_a_gap_is_held_for_the_hold_time_then_given_up():
    cursor = ChangeCursor(start=0, hold_seconds=HOLD)
    cursor.admit(rows(2, 3), now=100)
    assert cursor.expire(now=100 + HOLD - 0.1) == ([], [])
    assert cursor.expire(now=100 + HOLD) == (rows(2, 3), [1])
    assert cursor.position == 3 and cursor.gaps == []


def test_a_given_up_id_that_commits_later_is_not_released():
    cursor = ChangeCursor(start=0, hold_seconds=HOLD)
    cursor.admit(rows(2), now=0)
    cursor.expire(now=HOLD)
    assert cursor.admit(rows(1), now=HOLD + 1) == []


def test_only_the_expired_gaps_are_given_up():
    cursor = ChangeCursor(start=0, hold_seconds=HOLD)
    cursor.admit(rows(2), now=0)  # 1 missing since 0
    cursor.admit(rows(4), now=3)  # 3 missing since 3
    assert cursor.expire(now=HOLD) == (rows(2), [1])
    assert cursor.gaps == [3] and cursor.position == 2
    assert released(cursor.admit(rows(3), now=HOLD + 1)) == [3, 4]


def test_a_jump_holds_only_the_highest_missing_ids():
    cursor = ChangeCursor(start=0, hold_seconds=HOLD, max_gaps=3)
    assert cursor.admit(rows(1_000_000), now=0) == []
    assert cursor.gaps == [999_997, 999_998, 999_999]
    assert released(cursor.admit(rows(999_998), now=1)) == []
    assert cursor.expire(now=HOLD) == (rows(999_998, 1_000_000), [999_997, 999_999])


def test_the_ids_to_look_for_again_are_the_gaps():
    cursor = ChangeCursor(start=5, hold_seconds=HOLD)
    cursor.admit(rows(7, 9), now=0)
    assert cursor.gaps == [6, 8]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_commit_order_within_the_hold_time_is_released_once_each_in_id_order(data):
    """Rows 1..n commit in any order, each seen at some poll within the hold time: every row is released
    exactly once, and in id order."""
    count = data.draw(st.integers(min_value=1, max_value=30))
    commit_order = data.draw(st.permutations(range(1, count + 1)))
    polls = data.draw(st.lists(st.integers(min_value=1, max_value=count), min_size=1, max_size=count))
    cursor = ChangeCursor(start=0, hold_seconds=HOLD)
    out: list[int] = []
    committed: list[int] = []
    now = 0.0
    for position in sorted(set(polls)) + [count]:
        committed = list(commit_order[:position])
        visible = [i for i in committed if i > cursor.newest or i in cursor.gaps]
        out += released(cursor.admit(rows(*sorted(visible)), now=now))
        now += HOLD / (count + 2)
        assert cursor.expire(now=now)[1] == []
    assert out == list(range(1, count + 1))
