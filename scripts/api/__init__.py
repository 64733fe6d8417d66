"""API contract tooling: schemathesis against the OpenAPI documents (`fuzz`) and the Postman collection
checked against them (`postman_contract`)."""
