# The API as a published contract: schemathesis against the running stack's OpenAPI documents.
.PHONY: api-fuzz

api-fuzz: setup ## schemathesis through BASE_URL's ingress, customer and staff tokens; JUnit in test-results/schemathesis/
	@$(PY) -m scripts.api_fuzz
