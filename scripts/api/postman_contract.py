"""Checks the Postman collection against the services' OpenAPI documents, so the two cannot drift apart: every
request's method and path must be an operation of the document, its query parameters documented ones, and the
fields of its JSON body properties of the operation's request body. Runs before newman (postman/run.sh).

    python -m scripts.api.postman_contract [collection.json]      # exit 1 and one line per drifted request
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "postman" / "coffee-order.postman_collection.json"
VARIABLE = re.compile(r"^\{\{[^{}]+\}\}$")
PARAMETER = re.compile(r"^\{[^{}]+\}$")


def openapi_documents() -> list[dict]:
    """Both services' documents, built from their apps as they serve them (no database needed)."""
    from services.delivery_ms import create_app as create_delivery_app
    from services.delivery_ms.settings import load_settings as load_delivery_settings
    from services.order_ms import create_app as create_order_app
    from services.order_ms.settings import load_settings as load_order_settings
    from services.platform.api_docs import api_document

    return [api_document(create_order_app(load_order_settings())),
            api_document(create_delivery_app(load_delivery_settings()))]


def requests_of(items: list[dict], folder: str = "") -> list[tuple[str, dict]]:
    """(folder/name, request) of every request, folders flattened."""
    found = []
    for item in items:
        name = f"{folder}/{item['name']}" if folder else item["name"]
        if "item" in item:
            found += requests_of(item["item"], name)
        else:
            found.append((name, item["request"]))
    return found


def segment_matches(sent: str, template: str) -> bool:
    # A {{variable}} stands for anything; a literal fills a {parameter} or equals a literal.
    return bool(VARIABLE.match(sent)) or bool(PARAMETER.match(template)) or sent == template


def find_operation(documents: list[dict], method: str, segments: list[str]) -> tuple[dict, dict] | None:
    """(document, operation) for this method and path, literal paths before templated ones; None if none."""
    candidates = []
    for document in documents:
        for path, operations in document["paths"].items():
            template = path.strip("/").split("/")
            if len(template) == len(segments) and all(map(segment_matches, segments, template)):
                if method.lower() in operations:
                    literal = sum(not PARAMETER.match(part) for part in template)
                    candidates.append((literal, document, operations[method.lower()]))
    if not candidates:
        return None
    _, document, operation = max(candidates, key=lambda candidate: candidate[0])
    return document, operation


def resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def json_body(raw: str) -> object:
    # Postman variables may stand unquoted for numbers ({{price}}); any JSON value reads the same here.
    return json.loads(re.sub(r"(?<![\"\w])\{\{[^{}]+\}\}", "0", raw))


def request_drift(name: str, request: dict, documents: list[dict]) -> list[str]:
    method, url = request["method"], request["url"]
    segments = [segment for segment in url.get("path", []) if segment != ""]
    raw_path = re.sub(r"^\{\{baseUrl\}\}", "", url["raw"]).split("?", 1)[0].strip("/")
    if raw_path != "/".join(segments):
        return [f"{name}: its raw URL /{raw_path} and its path /{'/'.join(segments)} differ"]
    found = find_operation(documents, method, segments)
    if found is None:
        return [f"{name}: {method} /{'/'.join(segments)} is no operation of the OpenAPI documents"]
    document, operation = found
    drift = []
    documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    for parameter in url.get("query", []):
        if parameter["key"] not in documented:
            drift.append(f"{name}: query parameter {parameter['key']!r} is not documented for {method} "
                         f"/{'/'.join(segments)}")
    body = request.get("body") or {}
    if body.get("mode") == "raw" and body.get("raw", "").strip():
        if "requestBody" not in operation:
            return drift + [f"{name}: {method} /{'/'.join(segments)} takes no body"]
        schema = resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
        try:
            sent = json_body(body["raw"])
        except ValueError:
            return drift  # a deliberately malformed body: nothing to compare
        if isinstance(sent, dict):
            for field in sent:
                if field not in schema.get("properties", {}):
                    drift.append(f"{name}: body field {field!r} is not in the request body of {method} "
                                 f"/{'/'.join(segments)}")
    return drift


def drift_of(collection: dict, documents: list[dict]) -> list[str]:
    """One line per way a request of the collection differs from the documents; empty when none does."""
    return [
        line for name, request in requests_of(collection["item"]) for line in request_drift(name, request, documents)
    ]


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else COLLECTION
    drift = drift_of(json.loads(path.read_text(encoding="utf-8")), openapi_documents())
    for line in drift:
        print(f"postman drift: {line}")
    if drift:
        print(f"{path.name} does not match the OpenAPI documents (/order-ms/openapi.json, /delivery-ms/openapi.json)")
        return 1
    print(f"{path.name}: every request matches the OpenAPI documents")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
