"""The delivery outbox relay process: publishes `delivery_outbox` rows to `delivery_status` (`python -m services.delivery_ms.relay`)."""
from services.common.outbox import run_relay_process

if __name__ == "__main__":
    run_relay_process("delivery-relay", "delivery_outbox")
