"""A test's server-sent events client: blocks parsed as the HTML standard's EventSource reads them, with a read
timeout well above the stream's heartbeat, so a stream that goes silent fails the test instead of hanging it."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator

import requests

# Above the default STREAM_HEARTBEAT_SECONDS (15 s): a healthy stream always sends something within it.
READ_TIMEOUT = 40


def parse_block(block: str) -> dict:
    """One blank-line-ended block: {event, id, data, retry, comments} for the fields it has."""
    fields: dict = {}
    for line in block.split("\n"):
        if line.startswith(":"):
            fields.setdefault("comments", []).append(line[1:].lstrip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        fields[name] = f"{fields[name]}\n{value}" if name == "data" and "data" in fields else value
    return fields


def parse(stream: str) -> list[dict]:
    return [parse_block(block) for block in stream.split("\n\n") if block]


class EventStream:
    """An open stream; `next_event()` skips heartbeats and the retry block, `next_block()` does not."""

    def __init__(self, url: str, headers: dict[str, str]):
        self.response = requests.get(url, headers=headers, stream=True, timeout=(5, READ_TIMEOUT))
        self._blocks = self._read_blocks()

    @property
    def status_code(self) -> int:
        return self.response.status_code

    def _read_blocks(self) -> Iterator[dict]:
        buffer = ""
        # chunk_size=None: each chunk as it arrives (a fixed size would wait for that many bytes).
        for chunk in self.response.iter_content(chunk_size=None):
            buffer += chunk.decode()
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                yield parse_block(block)

    def next_block(self) -> dict:
        return next(self._blocks)

    def next_event(self, within: float = 60.0) -> dict:
        """The next event, its data parsed as JSON; fails the test when none came `within` seconds (heartbeats
        alone would keep the stream going forever)."""
        deadline = time.monotonic() + within
        while "data" not in (block := self.next_block()):
            assert time.monotonic() < deadline, f"no event within {within:.0f} s, only heartbeats"
        return {**block, "data": json.loads(block["data"])}

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
