"""The capabilities the emulator's token grants: every ACL of the official spec, every action, all scope.

Read from the spec's ``CogniteCapability`` schema (the one groups use) rather than written out by
hand, so ``client.iam.verify_capabilities(...)`` and deploy tools that check access find every ACL
they ask about.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from emulator.spec import full_spec

_REF = "#/components/schemas/"
# The spec's capability list spells some ACLs differently from the service (and cognite-sdk), and
# leaves extraction configs out; the names the service answers win (docs/coverage.md).
_SERVICE_NAMES = {
    "extractionpipelinesAcl": "extractionPipelinesAcl",
    "extractionrunsAcl": "extractionRunsAcl",
    "hostedextractorsAcl": "hostedExtractorsAcl",
    "entityMatchingAcl": "entitymatchingAcl",
}
_MISSING_FROM_LIST = {"extractionConfigsAcl": _REF + "extractionconfigs_aclAcl"}
# In the spec, unknown to cognite-sdk 8: it would warn about them on every verify_capabilities().
_LEFT_OUT = {"ilainstancesAcl", "limitsAcl"}


def _schema(ref: str) -> dict[str, Any]:
    return full_spec()["components"]["schemas"][ref.removeprefix(_REF)]  # type: ignore[no-any-return]


def _actions(acl_schema: dict[str, Any]) -> list[str]:
    items = acl_schema.get("properties", {}).get("actions", {}).get("items", {})
    if "$ref" in items:
        items = _schema(items["$ref"])
    return list(items.get("enum", []))


def _scope(acl_schema: dict[str, Any]) -> dict[str, Any]:
    scope = acl_schema.get("properties", {}).get("scope", {})
    if "$ref" in scope:
        scope = _schema(scope["$ref"])
    titles = [option.get("title") for option in scope.get("oneOf", [])]
    if "all" in titles or not titles:
        return {"all": {}}
    first = scope["oneOf"][0]
    return {next(iter(first.get("properties", {"all": {}}))): {}}


@cache
def _capabilities() -> tuple[dict[str, Any], ...]:
    acls: dict[str, str] = {}
    for option in _schema("CogniteCapability")["items"]["allOf"][0]["oneOf"]:
        for name, ref in option.get("properties", {}).items():
            if "$ref" in ref and name not in _LEFT_OUT:
                acls.setdefault(_SERVICE_NAMES.get(name, name), ref["$ref"])
    acls.update(_MISSING_FROM_LIST)
    found = []
    for name, ref in sorted(acls.items()):
        acl = _schema(ref)
        actions = _actions(acl)
        if actions:
            found.append(
                {name: {"actions": actions, "scope": _scope(acl)}, "projectScope": {"allProjects": {}}}
            )
    return tuple(found)


def all_capabilities() -> list[dict[str, Any]]:
    """One capability per ACL, each with every action of it and its widest scope, in every project."""
    return copy.deepcopy(list(_capabilities()))
