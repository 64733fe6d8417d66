"""The field rules several contracts and both APIs share: ids (any UUID, an order's, a user's) and timestamps.

A contract or route takes its rule from here and adds its own description and example with
`dataclasses.replace`, so one id is checked, and documented, the same way everywhere."""
from __future__ import annotations

from dataclasses import replace

from services.platform.fields import Field

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# [0-9] rather than \d: \d also matches other scripts' digits.
TIMESTAMP_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

UUID = Field(str, pattern=UUID_PATTERN, rule="a lowercase UUID with dashes")
TIMESTAMP = Field(str, pattern=TIMESTAMP_PATTERN, rule="an ISO-8601 UTC time with microseconds")
USER_ID = Field(str, pattern=r"[A-Za-z0-9_-]{1,50}", rule="1-50 letters, digits, '_' or '-'",
                description="The customer who ordered.", example="USER0001")
ORDER_ID = replace(UUID, description="The order's id, made by order-ms.",
                   example="5f0c4c7e-2b1d-4c1e-9a35-2f6a8f1f2b3c")
