"""What every service of the suite tells a caller at its edge, in the same words: where the APIs live, and what
to send when a body is too large."""
from __future__ import annotations

UNKNOWN_ROUTE_HINT = (
    "Check the URL: the API lives under /order-ms and /delivery-ms"
    " (their documents: /order-ms/docs and /delivery-ms/docs)."
)
BODY_TOO_LARGE_HINT = "Send a smaller JSON body; an order is a few hundred bytes."
