"""The chaos scenarios, in the order a run plays them: each module has a NAME and `run(scenario)`.

The poison flood comes last: if a poison record wedges a consumer, only its own scenario shows it."""
from scripts.chaos.scenarios import (broker_freeze, broker_kill, consumer_kill, database_down, poison_flood,
                                     rebalance, relay_kill, rolling_restart)

SCENARIOS = [consumer_kill, broker_freeze, broker_kill, database_down, relay_kill, rolling_restart, rebalance,
             poison_flood]
