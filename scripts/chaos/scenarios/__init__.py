"""The chaos scenarios, in the order a run plays them: each module has a NAME and `run(scenario)`.

The record batches and the poison flood come last: if a batch or a poison record wedges a consumer, only its own
scenario shows it."""
from scripts.chaos.scenarios import (
                                     broker_freeze,
                                     broker_kill,
                                     consumer_kill,
                                     database_down,
                                     events_dropped,
                                     login_loop,
                                     poison_flood,
                                     rebalance,
                                     record_batches,
                                     relay_kill,
                                     rolling_restart,
                                     status_consumer_kill,
)

SCENARIOS = [consumer_kill, status_consumer_kill, broker_freeze, broker_kill, database_down, relay_kill,
             rolling_restart, rebalance, events_dropped, login_loop, record_batches, poison_flood]
