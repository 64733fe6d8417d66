"""What every refused request must carry, checked the same way by every in-process route test."""
from __future__ import annotations


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """A problem+json answer with `status`, a title, a detail and a hint (naming `field` among its errors)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["title"] and problem["detail"] and problem["hint"]
    assert "Traceback" not in response.get_data(as_text=True)
    if field:
        assert field in {error["field"] for error in problem["errors"]}, problem
    return problem
