"""Unit tests for the OpenAPI builder: the document follows the app's routes, and a description that names a
route the app does not serve, or leaves one out, is refused."""
import pytest
from flask import Flask
from openapi_spec_validator import validate

from services.platform.fields import Field
from services.platform.openapi import ApiInfo, DocumentError, Operation, Param, Reply, build_document, openapi_path

INFO = ApiInfo(title="demo", version="1", description="A demo service.", login="Log in first.")
NAME = Field(str, min_length=1, max_length=5, rule="1-5 characters")


def demo_app() -> Flask:
    app = Flask(__name__)

    def thing(name):
        return name

    app.add_url_rule("/demo/things/<name>", "thing", thing, methods=["GET"])
    app.add_url_rule("/demo/things/<name>/alias", "thing", thing, methods=["GET"])
    app.add_url_rule("/demo/page", "page", lambda: "", methods=["GET"])
    app.add_url_rule("/port-only", "port_only", lambda: "", methods=["GET"])
    return app


THING = Operation("thing", "GET", "getThing", "One thing", "Things", parameters=(Param("name", "path", NAME),),
                  replies=(Reply(200, "The thing.", {"type": "string"}, content_type="text/plain"),))


def test_every_served_route_under_the_prefix_becomes_an_operation():
    document = build_document(demo_app(), "/demo", INFO, [THING], undocumented={"page"})
    validate(document)
    assert set(document["paths"]) == {"/demo/things/{name}", "/demo/things/{name}/alias"}
    # An endpoint served at two paths is two operations, each with its own id.
    ids = {path: spec["get"]["operationId"] for path, spec in document["paths"].items()}
    assert sorted(ids.values()) == ["getThing", "getThing_2"]
    parameter = document["paths"]["/demo/things/{name}"]["get"]["parameters"][0]
    assert parameter["schema"] == NAME.json_schema() and parameter["required"] is True
    assert document["paths"]["/demo/things/{name}"]["get"]["security"] == [{"bearerAuth": []}]


def test_a_served_route_left_out_is_refused():
    with pytest.raises(DocumentError, match=r"GET /demo/page \(page\) is served but not described"):
        build_document(demo_app(), "/demo", INFO, [THING], undocumented=set())


def test_an_operation_for_a_route_that_does_not_exist_is_refused():
    ghost = Operation("ghost", "GET", "ghost", "Nothing", "Things", replies=(Reply(200, "ok"),))
    with pytest.raises(DocumentError, match="no route has the endpoint 'ghost'"):
        build_document(demo_app(), "/demo", INFO, [THING, ghost], undocumented={"page"})


def test_an_operation_with_a_method_the_route_does_not_take_is_refused():
    wrong = Operation("page", "POST", "postPage", "Nothing", "Things", replies=(Reply(200, "ok"),))
    with pytest.raises(DocumentError, match="POST /demo/page is not served"):
        build_document(demo_app(), "/demo", INFO, [THING, wrong], undocumented=set())


def test_an_undescribed_path_parameter_is_refused():
    bare = Operation("thing", "GET", "getThing", "One thing", "Things", replies=(Reply(200, "ok"),))
    with pytest.raises(DocumentError, match=r"path parameters \['name'\]"):
        build_document(demo_app(), "/demo", INFO, [bare], undocumented={"page"})


def test_flask_rules_become_openapi_paths():
    assert openapi_path("/a/<user_id>/b/<path:rest>") == "/a/{user_id}/b/{rest}"
