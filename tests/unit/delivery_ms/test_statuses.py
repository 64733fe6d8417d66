"""Unit tests for the delivery status rules: which moves staff may make."""
import pytest

from services.delivery_ms.statuses import (
    STATUS_NAMES,
    DeliveryStatus,
    MoveNotAllowed,
    check_move,
    move_allowed,
    next_statuses,
)

C, D, OK, X = (DeliveryStatus.CONFIRMED, DeliveryStatus.IN_DELIVERY, DeliveryStatus.COMPLETED,
               DeliveryStatus.CANCELED)
# (from, to): allowed? Setting the current status again counts as allowed (a no-op).
MATRIX = {
    (C, C): True, (C, D): True, (C, OK): True, (C, X): True,
    (D, C): False, (D, D): True, (D, OK): True, (D, X): True,
    (OK, C): False, (OK, D): False, (OK, OK): True, (OK, X): False,
    (X, C): False, (X, D): False, (X, OK): False, (X, X): True,
}


def test_the_four_statuses_in_lifecycle_order():
    assert STATUS_NAMES == ("CONFIRMED", "IN_DELIVERY", "COMPLETED", "CANCELED")


@pytest.mark.parametrize("current,wanted", sorted(MATRIX))
def test_every_move(current, wanted):
    assert move_allowed(current, wanted) is MATRIX[(current, wanted)]


def test_next_statuses_are_the_real_moves_only():
    assert next_statuses(C) == (D, OK, X)
    assert next_statuses(D) == (OK, X)
    assert next_statuses(OK) == () and next_statuses(X) == ()


def test_a_refused_move_says_where_the_delivery_is_and_where_it_may_go():
    check_move("CONFIRMED", "IN_DELIVERY")
    with pytest.raises(MoveNotAllowed) as refused:
        check_move("IN_DELIVERY", "CONFIRMED")
    assert (refused.value.current, refused.value.wanted) == ("IN_DELIVERY", "CONFIRMED")
    assert refused.value.allowed == (DeliveryStatus.COMPLETED, DeliveryStatus.CANCELED)
