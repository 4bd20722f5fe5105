"""The emulator's own OpenAPI document, and 501 answers for official operations it does not implement.

The document is the official CDF OpenAPI subset (vendored in emulator/data/, as published), reduced
to the operations the emulator implements, with the corrections listed in docs/coverage.md applied,
and its server set to the emulator's own URL for the project.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError

# (method, path) of the official subset that the emulator does not implement: they answer 501.
NOT_IMPLEMENTED = {
    ("get", "/files"): "Listing files is outside the part of Files that functions.create uses",
    ("post", "/files/list"): "Listing files is outside the part of Files that functions.create uses",
}


@cache
def official_spec() -> dict[str, Any]:
    text = resources.files("emulator").joinpath("data/cdf-functions-openapi.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def corrected_spec(raw: dict[str, Any] | None = None) -> dict[str, Any]:
    """The official subset with the known errors of the spec itself corrected (docs/coverage.md)."""
    spec = copy.deepcopy(raw if raw is not None else official_spec())
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
    schemas["SessionId"] = {"description": "Id of the session.", "type": "integer"}
    schedule = schemas.get("FunctionSchedule", {})
    if "nonce" in schedule.get("required", []):  # the nonce is sent on create, never returned
        schedule["required"] = [r for r in schedule["required"] if r != "nonce"]
    error = schemas.get("FunctionCallError", {})
    if "required" in error:
        error["required"] = [r for r in error["required"] if r in error.get("properties", {})]
    for response in spec["components"].get("responses", {}).values():
        body = response.get("content", {}).get("application/json", {}).get("schema", {})
        if "response" in body.get("properties", {}):
            body["properties"]["response"] = {"description": "Any JSON value the function returned."}
    return spec


def emulator_spec(server_url: str) -> dict[str, Any]:
    spec = corrected_spec()
    spec["paths"] = {
        path: {m: op for m, op in ops.items() if (m, path) not in NOT_IMPLEMENTED}
        for path, ops in spec["paths"].items()
    }
    spec["paths"] = {
        p: ops for p, ops in spec["paths"].items() if any(k in ops for k in ("get", "post", "put"))
    }
    spec["servers"] = [{"url": server_url}]
    spec["info"]["title"] = "CDF Functions emulator (official subset, implemented operations)"
    return spec


@cache
def _component_validator(name: str) -> Any:
    """A JSON-schema validator for one component of the (corrected) official spec."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resource = Resource(contents=corrected_spec(), specification=DRAFT202012)
    registry = Registry().with_resource("urn:cdf-spec", resource)
    return Draft202012Validator({"$ref": f"urn:cdf-spec#/components/schemas/{name}"}, registry=registry)


def check_component(name: str, value: Any, where: str = "Request body") -> None:
    """400 in CDF's shape if ``value`` does not match the official schema ``name``."""
    error = next(iter(_component_validator(name).iter_errors(value)), None)
    if error is not None:
        location = ".".join(str(p) for p in error.absolute_path) or where
        raise CogniteAPIError(400, f"{location}: {error.message[:300]}")


async def openapi(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return JSONResponse(emulator_spec(f"{base}/api/v1/projects/{request.path_params['project']}"))


async def not_implemented(request: Request) -> Response:
    path = request.url.path.split("/api/v1/projects/", 1)[-1].split("/", 1)[-1]
    reason = NOT_IMPLEMENTED.get((request.method.lower(), "/" + path), "")
    raise CogniteAPIError(
        501, f"{request.method} /{path} is not implemented by the emulator. {reason}".strip()
    )


routes = [
    Route("/openapi.json", openapi, methods=["GET"]),
    *[Route(path, not_implemented, methods=[method.upper()]) for method, path in NOT_IMPLEMENTED],
]
