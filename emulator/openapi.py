"""The emulator's own OpenAPI document (the 501 answers of the rest are emulator.surface's).

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
from emulator.spec import METHODS, documented_conflicts, nullable_cursors, required_file_identifiers
from emulator.surface import served_in_project, template


@cache
def official_spec() -> dict[str, Any]:
    text = resources.files("emulator").joinpath("data/cdf-functions-openapi.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def corrected_spec(raw: dict[str, Any] | None = None) -> dict[str, Any]:
    """The official subset with the known errors of the spec itself corrected (docs/coverage.md)."""
    spec = copy.deepcopy(raw if raw is not None else official_spec())
    schemas = spec["components"]["schemas"]
    required_file_identifiers(spec)
    nullable_cursors(spec)
    documented_conflicts(spec)
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


def emulator_spec(server_url: str, served: set[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The subset's operations that the app serves (``served``: (method, path template) pairs from
    ``emulator.surface.served``; None keeps every operation of the subset)."""
    spec = corrected_spec()
    spec["paths"] = {
        path: {
            m: op
            for m, op in ops.items()
            if served is None or m not in METHODS or (m, template(path)) in served
        }
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
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    resource = DRAFT202012.create_resource(corrected_spec())
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
    project = request.path_params["project"]
    have = served_in_project(request.app.routes)
    return JSONResponse(emulator_spec(f"{base}/api/v1/projects/{project}", have))


routes = [Route("/openapi.json", openapi, methods=["GET"])]
