"""Pure parts of the REST layer: routing, versions, batch sizes, JSON parsing."""

from __future__ import annotations

from typing import Any

import pytest

from sfemu.model import ApiError
from sfemu.rest.query import batch_size
from sfemu.rest.router import Router
from sfemu.rest.wire import ApiResponse, parse_json, parse_version, require_object, version_label

# -- routing and wire helpers ---------------------------------------------------------------


def _handler(name: str) -> Any:
    return lambda req, params: ApiResponse(status=200, body={"name": name, **params})


@pytest.mark.parametrize(
    ("method", "path", "template", "params"),
    [
        ("GET", "sobjects/Case/describe", "sobjects/{sobject}/describe", {"sobject": "Case"}),
        ("GET", "sobjects/Case/500x", "sobjects/{sobject}/{id}", {"sobject": "Case", "id": "500x"}),
        (
            "HEAD",
            "sobjects/Case/500x",
            "sobjects/{sobject}/{id}",
            {"sobject": "Case", "id": "500x"},
        ),
        ("GET", "", "", {}),
    ],
)
def test_router_resolution(method: str, path: str, template: str, params: dict[str, str]) -> None:
    router = Router()
    router.add("GET", "", _handler("root"))
    router.add("GET", "sobjects/{sobject}/describe", _handler("describe"))
    router.add("GET PATCH", "sobjects/{sobject}/{id}", _handler("record"))
    match = router.resolve(method, path.split("/") if path else [])
    assert (match.template, match.params) == (template, params)


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        (
            "POST",
            "sobjects/Case/500x",
            405,
            "HTTP Method 'POST' not allowed. Allowed are GET,HEAD,PATCH",
        ),
        ("GET", "nothing/here", 404, "The requested resource does not exist"),
    ],
)
def test_router_errors(method: str, path: str, status: int, message: str) -> None:
    router = Router()
    router.add("GET PATCH", "sobjects/{sobject}/{id}", _handler("record"))
    with pytest.raises(ApiError) as caught:
        router.resolve(method, path.split("/"))
    assert (caught.value.status, caught.value.message) == (status, message)


@pytest.mark.parametrize(
    ("segment", "version"),
    [
        ("v59.0", "59.0"),
        ("v20.0", "20.0"),
        ("latest", "62.0"),
        ("v99.0", None),
        ("59.0", None),
        ("vx.0", None),
    ],
)
def test_parse_version(segment: str, version: str | None) -> None:
    assert parse_version(segment) == version


@pytest.mark.parametrize(
    ("number", "label"),
    [
        (59, "Winter '24"),
        (60, "Spring '24"),
        (61, "Summer '24"),
        (62, "Winter '25"),
        (58, "Summer '23"),
    ],
)
def test_version_labels(number: int, label: str) -> None:
    assert version_label(number) == label


@pytest.mark.parametrize(
    ("header", "size"),
    [
        (None, 2000),
        ("batchSize=500", 500),
        ("batchSize=10", 200),
        ("batchSize=5000", 2000),
        ("batchSize=abc", 2000),
        ("foo=1, batchSize=300", 300),
    ],
)
def test_query_batch_size(header: str | None, size: int) -> None:
    assert batch_size(header) == size


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "JSON_PARSER_ERROR"),
        (b'{"a": }', "JSON_PARSER_ERROR"),
        (b"\xff\xfe", "JSON_PARSER_ERROR"),
    ],
)
def test_parse_json_errors(raw: bytes, code: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_json(raw)
    assert (caught.value.status, caught.value.error_code) == (400, code)


@pytest.mark.parametrize("body", [[1], None, "text", 3])
def test_require_object_refuses_non_objects(body: Any) -> None:
    with pytest.raises(ApiError) as caught:
        require_object(body)
    assert caught.value.error_code == "JSON_PARSER_ERROR"
