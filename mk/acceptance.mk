# The acceptance suite (UAT, CASE-numbered) and the Postman collection, against any running deployment.
.PHONY: acceptance postman

acceptance: ## the acceptance suite against BASE_URL (default the local ingress); report in test-results/acceptance/
	@scripts/setup.sh --test
	@$(PY) -m pytest tests/acceptance -q

postman: ## the Postman collection with newman against BASE_URL; JUnit in test-results/postman/
	@bash scripts/setup.d/newman.sh
	@postman/run.sh
