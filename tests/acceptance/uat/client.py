"""HTTP to BASE_URL that remembers the last exchange, so the report can show what broke a failed case."""
from __future__ import annotations

from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

TIMEOUT_SECONDS = 15
BODY_EXCERPT_CHARS = 600


@dataclass(frozen=True)
class Exchange:
    """One request and what came back: enough to reproduce a failure by hand."""

    method: str
    url: str
    status: int | None
    content_type: str
    body: str


class SourceAddressAdapter(HTTPAdapter):
    """Connects from one local address, so the deployment sees this session as a client of its own."""

    def __init__(self, source_address: str):
        self.source_address = source_address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source_address, 0)
        super().init_poolmanager(*args, **kwargs)


class Api:
    """A requests session bound to one base URL; every call leaves its exchange in `last`.

    With `source_address`, its connections leave from that local address (a client other than the runner's)."""

    def __init__(self, base_url: str, source_address: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        if source_address:
            adapter = SourceAddressAdapter(source_address)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
        self.last: Exchange | None = None

    def request(self, method: str, path: str, *, token: str | None = None, headers: dict | None = None,
                **kwargs) -> requests.Response:
        """`path` is absolute ("/order-ms/...", as Location and Link headers give it) or a full URL."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        sent_headers = dict(headers or {})
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.session.request(method, url, headers=sent_headers, timeout=TIMEOUT_SECONDS,
                                            allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            self.last = Exchange(method, url, None, "", f"no response: {exc}")
            raise
        self.last = Exchange(method, url, response.status_code, response.headers.get("Content-Type", ""),
                             response.text[:BODY_EXCERPT_CHARS])
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()
