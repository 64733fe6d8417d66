"""The status consumer chaos scenario's verdict on one order's change log against what delivery-ms published."""
from scripts.chaos.status_accounting import StatusAccount, judge

PUBLISHED = {1: ("CONFIRMED", "t1"), 2: ("IN_DELIVERY", "t2"), 3: ("COMPLETED", "t3")}


def test_every_published_change_once_in_version_order_is_right():
    assert judge(PUBLISHED, [("CONFIRMED", "t1"), ("IN_DELIVERY", "t2"), ("COMPLETED", "t3")]) is None


def test_a_change_logged_twice_is_doubled():
    assert judge(PUBLISHED, [("CONFIRMED", "t1"), ("IN_DELIVERY", "t2"), ("IN_DELIVERY", "t2"),
                             ("COMPLETED", "t3")]) == "doubled"


def test_a_missing_change_is_lost():
    assert judge(PUBLISHED, [("CONFIRMED", "t1"), ("COMPLETED", "t3")]) == "lost"


def test_changes_in_another_order_are_out_of_order():
    assert judge(PUBLISHED, [("CONFIRMED", "t1"), ("COMPLETED", "t3"), ("IN_DELIVERY", "t2")]) == "out_of_order"


def test_the_account_names_each_broken_promise_with_examples():
    account = StatusAccount(orders=3, published=9, logged=8, lost=["a"], doubled=["b"], out_of_order=[], behind=["c"])
    failures = account.failures()
    assert len(failures) == 3
    assert "1 orders lost a published status change" in failures[0] and "e.g. a" in failures[0]
    assert "twice" in failures[1] and "another delivery status" in failures[2]
