"""Every problem a route can raise is in its operation's document: the answers are collected from the code.

For each documented operation, the view function and everything it calls inside `services` (followed through
module globals and closures, so decorators such as the token checks count) are read as source; every
`problems.<factory>(...)` or `Problem(status=...)` they contain is an answer the operation may give, and any
use of the database pool adds the 503 of a database that is down. The test fails when one of them is missing
from the operation's responses: a new `raise` cannot reach clients undocumented."""
from __future__ import annotations

import ast
import inspect
import textwrap
import types

import pytest

from services.delivery_ms import create_app as create_delivery_app
from services.delivery_ms import create_stream_app as create_delivery_stream_app
from services.delivery_ms.settings import load_settings as load_delivery_settings
from services.order_ms import create_app as create_order_app
from services.order_ms import create_stream_app as create_order_stream_app
from services.order_ms.settings import load_settings as load_order_settings
from services.platform import problems, web
from services.platform.api_docs import api_document
from services.platform.openapi import openapi_path

# Each service's API app (which serves the document) and its stream process's app.
APPS = {
    "order-ms": lambda: (create_order_app(load_order_settings()), create_order_stream_app(load_order_settings())),
    "delivery-ms": lambda: (create_delivery_app(load_delivery_settings()),
                            create_delivery_stream_app(load_delivery_settings())),
}
DATABASE_DOWN = 503


def _status_of_problem_call(call: ast.Call) -> int | None:
    for keyword in call.keywords:
        if keyword.arg == "status" and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return None


def _is_problem_constructor(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "Problem") or (
        isinstance(func, ast.Attribute) and func.attr == "Problem")


def factory_statuses() -> dict[str, int]:
    """{name: status} of each function in problems.py that builds a Problem with a fixed status."""
    found = {}
    tree = ast.parse(inspect.getsource(problems))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            statuses = {_status_of_problem_call(call) for call in ast.walk(node)
                        if isinstance(call, ast.Call) and _is_problem_constructor(call)} - {None}
            if len(statuses) == 1:
                found[node.name] = statuses.pop()
    return found


FACTORIES = factory_statuses()


def _resolve(node: ast.expr, function: types.FunctionType):
    """The object a call's target names, through the function's globals and closure; None when unknown."""
    names = dict(function.__globals__)
    if function.__closure__:
        cells = (cell.cell_contents for cell in function.__closure__)
        names.update(zip(function.__code__.co_freevars, cells, strict=True))
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, function)
        return getattr(owner, node.attr, None) if isinstance(owner, (types.ModuleType, type)) else None
    return None


def raised_statuses(function, seen: set | None = None) -> set[int]:
    """Every status of a problem `function` or what it calls (inside services) may raise."""
    seen = set() if seen is None else seen
    if not isinstance(function, types.FunctionType) or function in seen:
        return set()
    if not (function.__module__ or "").startswith("services."):
        return set()
    seen.add(function)
    if function is web.db_pool:
        return {DATABASE_DOWN}
    statuses: set[int] = set()
    # The code object, not the function: getsource would follow __wrapped__ past a decorator's own code.
    tree = ast.parse(textwrap.dedent(inspect.getsource(function.__code__)))
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
        if _is_problem_constructor(call):
            status = _status_of_problem_call(call)
            if status is not None:
                statuses.add(status)
            continue
        target = _resolve(call.func, function)
        if target is not None and getattr(target, "__module__", None) == problems.__name__ \
                and getattr(target, "__name__", "") in FACTORIES:
            statuses.add(FACTORIES[target.__name__])
            continue
        statuses |= raised_statuses(target, seen)
    # A decorated view: the function it wraps is called through the closure, and followed there.
    wrapped = getattr(function, "__wrapped__", None)
    if wrapped is not None:
        statuses |= raised_statuses(wrapped, seen)
    return statuses


def documented_operations(apps):
    """(method, OpenAPI path, view function, documented statuses) of every operation in the first app's document,
    the views from whichever of the service's apps serves them."""
    document = api_document(apps[0])
    views = {}
    for app in apps:
        for rule in app.url_map.iter_rules():
            for method in rule.methods or ():
                views.setdefault((method.lower(), openapi_path(rule.rule)), app.view_functions[rule.endpoint])
    for path, operations in document["paths"].items():
        for method, spec in operations.items():
            yield method, path, views[(method, path)], {int(status) for status in spec["responses"]}


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_problem_a_route_can_raise_is_documented(service):
    missing = []
    for method, path, view, documented in documented_operations(APPS[service]()):
        raised = raised_statuses(view)
        if raised - documented:
            missing.append(f"{method.upper()} {path} may answer {sorted(raised - documented)}, documents "
                           f"{sorted(documented)}")
    assert not missing, "\n".join(missing)


def test_the_collector_finds_the_problems_of_decorators_bodies_and_the_database():
    app = APPS["order-ms"]()
    found = {(method, path): raised_statuses(view) for method, path, view, _ in documented_operations(app)}
    # Token checks (decorators), body reading and its fields, the database, the idempotency conflict.
    assert {401, 403, 400, 415, 422, 409, DATABASE_DOWN} <= found[("post", "/order-ms/{user_id}/orders")]
    assert {429, 409, 422, DATABASE_DOWN} <= found[("post", "/order-ms/users")]
    assert {401, 429} <= found[("post", "/order-ms/login")]


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_operation_documents_the_edge_answers(service):
    for method, path, _, documented in documented_operations(APPS[service]()):
        assert {400, 413, 414, 503} <= documented, f"{method.upper()} {path} documents {sorted(documented)}"
