"""``POST /_emulator/seed``: load a fixture (the format of emulator/seeding.py) through the admin API.

The body is the fixture as JSON; ``?project=`` names the project its top-level sections go to.
"""

from __future__ import annotations

from cognite.client.exceptions import CogniteAPIError as SDKError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, bad_request
from emulator.resources.common import emulator_of
from emulator.seeding import FixtureError, load
from emulator.validation import expect_object, read_json


async def seed(request: Request) -> Response:
    fixture = expect_object(await read_json(request), "")
    project = request.query_params.get("project")
    try:
        # The fixture is loaded with an in-process SDK client, which must not wait on this loop.
        counts = await run_in_threadpool(load, emulator_of(request), fixture, project)
    except FixtureError as exc:
        raise bad_request(str(exc)) from None
    except SDKError as exc:  # the emulator's own answer to one of the fixture's calls
        raise CogniteAPIError(exc.code, exc.message, missing=exc.missing, duplicated=exc.duplicated) from None
    return JSONResponse({"loaded": counts})


route = Route("/_emulator/seed", seed, methods=["POST"])
