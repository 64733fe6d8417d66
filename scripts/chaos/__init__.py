"""`make chaos`: every fault the pipeline promises to survive, played against a real local stack, with one table
of what became of the orders (`python -m scripts.chaos --help`).

One module per job: `settings` (counts, times, where), `stack` (the chaos profile's stack and its health),
`load` (customers placing orders and reading lists through nginx), `latency` (p99 and failures in a window),
`faults` (kill, freeze, hold down), `accounting` (orders against deliveries), `topics` (tallies of new_orders
and its DLQ), `outbox` (pending rows), `poison` (malformed records), `evidence` (what the processes logged),
`scenario` (the shared bookkeeping and verdict), `scenarios/` (one module per fault) and `report`."""
