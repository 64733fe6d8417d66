"""The workshop around the product (nothing here ships in an image): one folder per tool.

- `stack/`: the local stack (`make run`, `make up`, the tests' stack) and the one reader of its state file
- `chaos/`: `make chaos`, faults under load judged from the real databases and topics
- `bench/`: `make bench`, the pipeline's cost against the machine's ceilings
- `smoke/`: `make container-smoke`, both images built with podman and the chart's pods run from them
- `api/`: schemathesis against the OpenAPI documents, the Postman collection checked against them
- `k8s/`: `make k8s-check`, the chart and Dockerfiles checked without a cluster
- `controlplane/`: `make k8s-up` / `k8s-verify`, a real control plane built from Go modules
- `setup.sh` (with `setup.d/`) and `test.sh`: what `make setup` and `make test` run
"""
