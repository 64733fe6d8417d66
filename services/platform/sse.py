"""Server-sent events framing (the HTML standard's `text/event-stream`): events, the reconnection delay and
comments, each a block ended by a blank line."""
from __future__ import annotations

import json

CONTENT_TYPE = "text/event-stream"


def event(name: str, event_id: int, data: object) -> str:
    """One event: its name, its id (what a reconnecting client sends back as Last-Event-ID) and JSON data.
    JSON without indentation has no line break, so the data is a single `data:` line."""
    if not name or any(c in name for c in "\r\n:"):
        raise ValueError(f"an event name must be one non-empty line without a colon, got {name!r}")
    return f"event: {name}\nid: {event_id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def retry(milliseconds: int) -> str:
    """How long a client waits before reconnecting after the stream ends."""
    return f"retry: {milliseconds}\n\n"


def comment(text: str) -> str:
    """A line clients ignore; sent while nothing happens, it keeps proxies from closing an idle stream."""
    return f": {text}\n\n"
