# Monitoring: promtool checks of the alert rules and the dashboard (the chart's monitoring objects are in tests/chart), and the
# Prometheus checks against a running stack. `make run PROMETHEUS=1` (or `PROMETHEUS=1 make up`) also starts
# Prometheus on :9090 (scripts/stack/prometheus.py), scraping every process with the alert rules loaded.
.PHONY: monitoring-check metrics-test

monitoring-check: ## promtool on the alert rules and their unit tests, and the dashboard
	@$(PY) -m pytest tests/monitoring -q

metrics-test: ## /metrics and a real Prometheus against the running stack (`make up` first; PROFILE=dev)
	@STACK_STATE=.run/$(PROFILE)/state.json $(PY) -m pytest -q \
		tests/integration/platform/test_metrics_exposition.py tests/integration/platform/test_metrics_prometheus.py
