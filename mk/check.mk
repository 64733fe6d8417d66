# The inner loop: lint and the tests that need no running stack (units and the in-process route tests with the
# stores faked), in well under a minute. Run it before every commit; `make test` runs everything against a stack.
.PHONY: check lint

# The unit tests use neither hypothesis nor schemathesis: not loading their pytest plugins halves the start-up.
CHECK_PYTEST_FLAGS := -q -p no:schemathesis -p no:hypothesispytest -p no:anyio

lint: setup ## ruff (rules and per-file exceptions in pyproject.toml)
	@$(PY) -m ruff check .

check: lint ## lint, then the unit and in-process route tests (no stack needed), under 60 s
	@$(PY) -m pytest tests/unit $(CHECK_PYTEST_FLAGS)
