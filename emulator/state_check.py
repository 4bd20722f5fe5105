"""Checks of a state file's content before anything of it is restored.

A state file is input like any request: it may be hand-edited, truncated, or crafted. Function ids
name folders under the emulator's work directory (``functions/<id>``), so an id such as
``"../../victim"`` must never reach the loader; ids also continue the id generator, so a file whose
``ids_issued`` is missing or behind its own ids would make the next new object reuse (and silently
replace) a restored one. :func:`check_state` refuses all of that with a message naming the place.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any

from emulator.ids import MAX_ID, IdGenerator
from emulator.validation import loads_strict

INT64_MAX = 2**63 - 1
FUNCTION_STATUSES = ("Queued", "Deploying", "Ready", "Failed")
CALL_STATUSES = ("Running", "Completed", "Failed", "Timeout")


class StateContentError(ValueError):
    """A state file whose content is not what the emulator writes."""


Check = Callable[[Any], bool]


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and -INT64_MAX <= v <= INT64_MAX


def _id(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < 1e15


def _dict(v: Any) -> bool:
    return isinstance(v, dict)


def _str_dict(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _optional(check: Check) -> Check:
    return lambda v: v is None or check(v)


def _one_of(*values: str) -> Check:
    return lambda v: v in values


def _function_path(v: Any) -> bool:
    if not isinstance(v, str) or not 1 <= len(v) <= 500 or "\\" in v or "\x00" in v:
        return False
    rel = PurePosixPath(v)
    return not rel.is_absolute() and ".." not in rel.parts


def _logs(v: Any) -> bool:
    return isinstance(v, list) and all(
        isinstance(e, list) and len(e) == 2 and _int(e[0]) and isinstance(e[1], str) for e in v
    )


def _base64(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _json_text(v: Any) -> bool:
    if v is None:
        return True
    if not isinstance(v, str):
        return False
    try:
        loads_strict(v)
    except ValueError:
        return False
    return True


def _staged(v: Any) -> bool:
    """A deployment still settling (DeployTiming): [deploying_at_ms, done_at_ms, status, error]."""
    return (
        isinstance(v, list)
        and len(v) == 4
        and _int(v[0])
        and _int(v[1])
        and v[2] in FUNCTION_STATUSES
        and (v[3] is None or isinstance(v[3], dict))
    )


# field -> (required, check); what persistence.dump writes for each record kind.
FIELDS: dict[str, dict[str, tuple[bool, Check]]] = {
    "files": {
        "id": (True, _id), "name": (True, _str), "external_id": (True, _optional(_str)),
        "created_time": (True, _int), "last_updated_time": (True, _int), "extra": (False, _dict),
        "uploaded_time": (False, _optional(_int)), "uploaded": (False, _bool),
        "content_b64": (False, _base64),
    },
    "sessions": {
        "id": (True, _id), "type": (True, _str), "status": (True, _str), "nonce": (True, _str),
        "creation_time": (True, _int), "expiration_time": (True, _int),
        "client_id": (False, _optional(_str)), "nonce_used": (False, _bool),
    },
    "functions": {
        "id": (True, _id), "name": (True, _str), "file_id": (True, _id), "created_time": (True, _int),
        "status": (False, _one_of(*FUNCTION_STATUSES)), "external_id": (False, _optional(_str)),
        "description": (False, _optional(_str)), "owner": (False, _optional(_str)),
        "function_path": (False, _function_path), "secrets": (False, _str_dict),
        "env_vars": (False, _str_dict), "cpu": (False, _number), "memory": (False, _number),
        "runtime": (False, _str), "metadata": (False, _optional(_str_dict)),
        "index_url": (False, _optional(_str)), "extra_index_urls": (False, _optional(_str_list)),
        "error": (False, _optional(_dict)), "last_called": (False, _optional(_int)),
        "staged": (False, _optional(_staged)),
    },
    "calls": {
        "id": (True, _id), "function_id": (True, _id), "status": (True, _one_of(*CALL_STATUSES)),
        "start_time": (True, _int), "end_time": (False, _optional(_int)), "error": (False, _optional(_dict)),
        "schedule_id": (False, _optional(_id)), "scheduled_time": (False, _optional(_int)),
        "session_id": (False, _optional(_id)), "response": (False, lambda v: True),
        "has_response": (False, _bool), "logs": (True, _logs),
    },
    "schedules": {
        "id": (True, _id), "name": (True, _str), "function_id": (True, _id),
        "cron_expression": (True, _str), "created_time": (True, _int), "session_id": (True, _id),
        "function_external_id": (False, _optional(_str)), "description": (False, _optional(_str)),
        "data_json": (False, _json_text), "when": (False, _str),
    },
}  # fmt: skip


def _check_record(kind: str, item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise StateContentError(f"{where} must be an object")
    fields = FIELDS[kind]
    unknown = sorted(set(item) - set(fields))
    if unknown:
        raise StateContentError(f"{where} has unknown field(s) {', '.join(map(repr, unknown))}")
    for name, (required, check) in fields.items():
        if name not in item:
            if required:
                raise StateContentError(f"{where} lacks the field {name!r}")
            continue
        if not check(item[name]):
            raise StateContentError(f"{where}.{name} is not valid: {json.dumps(item[name])[:80]}")


def _ids_in(value: Any) -> Iterator[int]:
    """The ids of the records in a family part's dump (wire-shaped records: an integer ``"id"``).
    A record's own content is not searched: user JSON in it may have an "id" of its own."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found = item.get("id")
            if isinstance(found, int) and not isinstance(found, bool):
                yield found
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_state(data: dict[str, Any], ids: IdGenerator) -> None:
    """Refuse (StateContentError) anything in a state file that the emulator would not write."""
    if not _int(data.get("clock_ms")):
        raise StateContentError("clock_ms must be an integer (epoch ms)")
    issued = data.get("ids_issued")
    if issued is None:
        raise StateContentError(
            "the file has no ids_issued (the id generator's position): new objects could reuse the "
            "ids of restored ones. Files of emulator versions before ids_issued cannot be loaded"
        )
    if not _int(issued) or issued < 0:
        raise StateContentError("ids_issued must be a non-negative integer")
    seed = data.get("id_seed", ids.seed)
    if seed != ids.seed:
        raise StateContentError(
            f"the file was written with id_seed={seed!r}, this emulator uses id_seed={ids.seed!r}"
        )
    projects = data.get("projects")
    if not isinstance(projects, dict):
        raise StateContentError("projects must be an object")
    every_id: list[tuple[str, int]] = []
    for name, project in projects.items():
        if not isinstance(name, str) or not 1 <= len(name) <= 255 or "/" in name:
            raise StateContentError(f"project name {name!r} is not valid")
        if not isinstance(project, dict):
            raise StateContentError(f"project {name!r} must be an object")
        unknown = sorted(set(project) - {*FIELDS, "parts"})
        if unknown:
            raise StateContentError(f"project {name!r} has unknown key(s) {', '.join(map(repr, unknown))}")
        for kind in FIELDS:
            records = project.get(kind, [])
            if not isinstance(records, list):
                raise StateContentError(f"project {name!r}: {kind} must be a list")
            seen: set[int] = set()
            for index, item in enumerate(records):
                where = f"project {name!r}: {kind}[{index}]"
                _check_record(kind, item, where)
                if item["id"] in seen:
                    raise StateContentError(f"{where}: id {item['id']} appears twice")
                seen.add(item["id"])
                every_id.append((where, item["id"]))
        parts = project.get("parts") or {}
        if not isinstance(parts, dict):
            raise StateContentError(f"project {name!r}: parts must be an object")
        every_id.extend(
            (f"project {name!r}: parts.{part}", i) for part, v in parts.items() for i in _ids_in(v)
        )
    for where, value in every_id:
        if 1 <= value <= MAX_ID and ids.step_of(value) > issued:
            raise StateContentError(
                f"{where}: id {value} is beyond ids_issued={issued}: the id counter is not consistent "
                "with the file's own ids, and a new object would replace this one"
            )
