"""The full official CDF OpenAPI (vendored, gzipped, in emulator/data/) and checks built from it.

With twenty resource families, hand-writing every field check would drift from CDF; request bodies
are checked against the official schema of their operation instead (compiled once, cached), and
hand-written code is left for the rules the spec states only in prose.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

from emulator.errors import CogniteAPIError

METHODS = ("get", "post", "put", "delete", "patch")


class Operation(NamedTuple):
    method: str  # lower case
    path: str  # relative to /api/v1/projects/{project}, as the spec writes it
    operation_id: str
    tag: str


def published_spec() -> dict[str, Any]:
    """The whole official CDF OpenAPI document (481 operations), exactly as published."""
    raw = resources.files("emulator").joinpath("data/cdf-openapi.json.gz").read_bytes()
    return json.loads(gzip.decompress(raw))  # type: ignore[no-any-return]


@cache
def full_spec() -> dict[str, Any]:
    """The official document with the known errors of the spec itself corrected (docs/coverage.md)."""
    spec = published_spec()
    _correct(spec)
    return spec


def _overlapping(branches: list[Any], schemas: dict[str, Any]) -> bool:
    """Whether a ``oneOf`` can never pick one branch for common values (then it means ``anyOf``).

    A value "oneOf" string / number / integer refuses every integer (it is also a number); patch
    objects ``oneOf`` {set} / {add, remove} where a branch requires nothing match ``{"set": ...}``
    twice.
    """
    if {"number", "integer"} <= {b.get("type") for b in branches if isinstance(b, dict)}:
        return True
    targets = []
    for branch in branches:
        ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
        if not ref.startswith("#/components/schemas/"):
            return False
        targets.append(schemas.get(ref.rsplit("/", 1)[-1], {}))
    # A branch that requires nothing matches every object that the other branches match.
    return len(targets) > 1 and any(t.get("type") == "object" and not t.get("required") for t in targets)


def nullable_cursors(spec: dict[str, Any]) -> None:
    """A body's ``cursor`` may be null: the SDK's first page of a partitioned read sends it."""
    stack: list[Any] = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            cursor = (
                node.get("properties", {}).get("cursor") if isinstance(node.get("properties"), dict) else None
            )
            if isinstance(cursor, dict) and cursor.get("type") == "string":
                cursor["type"] = ["string", "null"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def documented_conflicts(spec: dict[str, Any]) -> None:
    """409 (a taken externalId, with ``duplicated``) is documented wherever 400 is.

    The service answers it on operations whose responses do not list it (createAssets,
    initFileUpload, ...), and the SDK relies on it.
    """
    for ops in spec["paths"].values():
        for method, op in ops.items():
            responses = op.get("responses") if method in METHODS and isinstance(op, dict) else None
            if isinstance(responses, dict) and "400" in responses and "409" not in responses:
                responses["409"] = responses["400"]


def required_file_identifiers(spec: dict[str, Any]) -> None:
    """The file identifiers are the branches of a ``oneOf`` without ``required``: as published,
    ``{"id": 1}`` matches all three branches, so every valid lookup would be refused."""
    schemas = spec["components"]["schemas"]
    for name, field in (
        ("FileInternalId", "id"),
        ("FileExternalId", "externalId"),
        ("FileSelectById", "id"),
        ("FileSelectByExternalId", "externalId"),
        ("FileSelectByInstanceId", "instanceId"),
    ):
        if name in schemas:
            schemas[name].setdefault("required", [field])


def _correct(spec: dict[str, Any]) -> None:
    """The spec's own known errors, corrected (docs/coverage.md lists them).

    The file identifiers are the branches of a ``oneOf`` without ``required``: as published,
    ``{"id": 1}`` matches all three branches, so every valid lookup would be refused.
    """
    schemas = spec["components"]["schemas"]
    required_file_identifiers(spec)
    stack: list[Any] = [spec]
    while stack:  # every schema, also those inline in properties and request bodies
        node = stack.pop()
        if isinstance(node, dict):
            branches = node.get("oneOf")
            if isinstance(branches, list) and _overlapping(branches, schemas):
                node["anyOf"] = node.pop("oneOf")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    documented_conflicts(spec)
    # getUploadLink answers {"items": [file]} (the SDK reads items[0]), not a bare file.
    upload_link = spec["paths"].get("/files/uploadlink", {}).get("post", {}).get("responses", {})
    if "201" in upload_link:
        wrapped = {"$ref": "#/components/schemas/UploadFileMetadata"}
        upload_link["201"] = {
            "description": "The file with its upload URL",
            "content": {"application/json": {"schema": {"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": wrapped}}}}},
        }  # fmt: skip
    nullable_cursors(spec)
    # Unique values of a property no record has: no buckets (the spec asks for at least one).
    buckets = schemas.get("ValuesAggregateResult", {}).get("properties", {}).get("items", {})
    if buckets.get("minItems") == 1:
        buckets["minItems"] = 0
    # Two schemas share the name StringValue; the prefix filters mean a plain string, not {value}.
    for name in ("PrefixFilter", "AggregatePrefixFilter"):
        inner = schemas.get(name, {}).get("properties", {}).get("prefix", {}).get("properties", {})
        if "value" in inner:
            inner["value"] = {"type": "string"}


@cache
def operations() -> tuple[Operation, ...]:
    found = []
    for path, ops in full_spec()["paths"].items():
        for method, op in ops.items():
            if method in METHODS:
                found.append(Operation(method, path, op.get("operationId", ""), (op.get("tags") or [""])[0]))
    return tuple(found)


@cache
def operation(operation_id: str) -> dict[str, Any]:
    for ops in full_spec()["paths"].values():
        for method, op in ops.items():
            if method in METHODS and op.get("operationId") == operation_id:
                return op  # type: ignore[no-any-return]
    raise KeyError(operation_id)


@cache
def _validator(pointer: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    resource = DRAFT202012.create_resource(full_spec())
    registry = Registry().with_resource("urn:cdf", resource)
    return Draft202012Validator({"$ref": f"urn:cdf#{pointer}"}, registry=registry)


def _body_pointer(operation_id: str) -> str:
    for path, ops in full_spec()["paths"].items():
        for method, op in ops.items():
            if method in METHODS and op.get("operationId") == operation_id:
                content = op.get("requestBody", {}).get("content", {})
                if "application/json" not in content:
                    raise KeyError(f"{operation_id} has no JSON request body")
                escaped = path.replace("~", "~0").replace("/", "~1")
                return f"/paths/{escaped}/{method}/requestBody/content/application~1json/schema"
    raise KeyError(operation_id)


def check_request(operation_id: str, body: Any) -> None:
    """400 in CDF's shape when ``body`` does not match the official request schema of the operation."""
    validator = _validator(_body_pointer(operation_id))
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None:
        location = ".".join(str(p) for p in error.absolute_path) or "Request body"
        raise CogniteAPIError(400, f"{location}: {error.message[:300]}")


def check_schema(component: str, value: Any, where: str = "Request body") -> None:
    """400 in CDF's shape when ``value`` does not match ``#/components/schemas/<component>``."""
    error = next(iter(_validator(f"/components/schemas/{component}").iter_errors(value)), None)
    if error is not None:
        location = ".".join(str(p) for p in error.absolute_path) or where
        raise CogniteAPIError(400, f"{location}: {error.message[:300]}")
