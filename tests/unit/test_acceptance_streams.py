"""The acceptance suite's event stream reader (tests/acceptance/uat/streams.py): the stream format as EventSource
reads it, and deadlines that hold on a quiet stream."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.acceptance.uat.streams import Closed, Comment, Event, EventStream, Retry, _lines, parse_lines


def parsed(*chunks: str) -> list:
    items = []
    parse_lines(_lines(chunks), items.append)
    return items


def test_fields_comments_and_events_in_order():
    assert parsed("retry: 2000\n\n: keep-alive\n\nid: 7\nevent: order-status\ndata: {\"a\": 1}\n\n") == [
        Retry(2000), Comment("keep-alive"), Event("7", "order-status", '{"a": 1}')]


def test_multi_line_data_unnamed_events_and_the_last_id_carried_over():
    assert parsed("id: 3\ndata: one\ndata: two\n\ndata: three\n\n") == [
        Event("3", "message", "one\ntwo"), Event("3", "message", "three")]


def test_an_event_without_its_blank_line_is_not_dispatched_and_an_empty_one_never():
    assert parsed("event: x\n\ndata: half") == []


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=6), st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_chunking_and_any_line_end_give_the_same_events(cuts, newline):
    text = newline.join(["retry: 2000", "", ": keep-alive", "id: 1", "event: e", "data: {}", "", ""])
    cut_points = sorted({cut % (len(text) + 1) for cut in cuts})
    pieces = [text[start:end] for start, end in zip([0, *cut_points], [*cut_points, len(text)], strict=True)]
    assert parsed(*pieces) == [Retry(2000), Comment("keep-alive"), Event("1", "e", "{}")]


class QuietStream(BaseHTTPRequestHandler):
    """Sends the retry field and one event, then keeps the connection open and silent until the test ends; on
    /chunked as HTTP/1.1 chunks (what the ingress sends), elsewhere as HTTP/1.0 up to the connection's close."""

    release = threading.Event()

    def do_GET(self):  # noqa: N802 - the handler's name is http.server's
        chunked = self.path == "/chunked"
        if chunked:
            self.protocol_version = "HTTP/1.1"
        if self.headers.get("Authorization") != "Bearer t":
            body = b'{"title": "Unauthorized", "status": 401}'
            self.send_response(401)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        last = self.headers.get("Last-Event-ID", "none")
        data = f"retry: 2000\n\nid: 1\nevent: seen\ndata: {{\"last\": \"{last}\"}}\n\n".encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data)
        self.wfile.flush()
        self.release.wait(10)

    def log_message(self, *_args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), QuietStream)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    QuietStream.release.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    QuietStream.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("path", ["/chunked", "/events"])
def test_a_stream_is_read_as_it_arrives_and_a_wait_ends_at_its_deadline(server, path):
    with EventStream(server, path, token="t", last_event_id="41") as stream:
        assert stream.started() == Retry(2000)
        event = stream.wait_for(lambda item: isinstance(item, Event), "the event")
        assert (event.id, event.name, event.json()) == ("1", "seen", {"last": "41"})
        with pytest.raises(AssertionError, match="did not arrive .* within 0.3 s"):
            stream.wait_for(lambda item: isinstance(item, Event), "a second event", timeout=0.3)
    assert not any(isinstance(item, Closed) for item in stream.items)


def test_a_refusal_is_left_whole_for_the_problem_checks(server):
    with EventStream(server, "/events", token="wrong") as stream:
        assert not stream.is_stream
        assert (stream.response.status_code, stream.response.json()["title"]) == (401, "Unauthorized")
        with pytest.raises(AssertionError, match="answered 401"):
            stream.started()
