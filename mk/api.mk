# The API as a published contract: schemathesis against the running stack's OpenAPI documents, and the
# AsyncAPI document of the topics made from the contracts.
.PHONY: api-fuzz asyncapi

api-fuzz: setup ## schemathesis through BASE_URL's ingress, customer and staff tokens; JUnit in test-results/schemathesis/
	@$(PY) -m scripts.api.fuzz

asyncapi: setup ## write docs/asyncapi.json from services/contracts (a unit test fails while it is stale)
	@$(PY) -m services.contracts.asyncapi > docs/asyncapi.json
