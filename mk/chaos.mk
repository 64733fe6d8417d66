# Chaos: every fault the order pipeline must survive (consumer and relay SIGKILL, broker frozen, MariaDB down,
# rolling restart, rebalance, a loop of right logins, poison flood), played against its own stack (profile chaos, ports +15000, private
# MariaDB, two instances of each service, two consumers). `make test` runs a tenth of it (CHAOS_SCALE=0.1).
.PHONY: chaos

chaos: setup ## every fault scenario with bounded counts and times; table in test-results/chaos/ (CHAOS_SCALE shrinks it)
	@$(PY) -m scripts.chaos
