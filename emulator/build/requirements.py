"""requirements.txt: read, validate and flatten it, as pip reads it, with ``packaging`` for each line.

CDF installs ``requirements.txt`` at the root of the function's zip (the SDK writes one there from
the ``[requirements]`` block of a ``function_handle``'s docstring). A line that pip would refuse
fails the deployment here, naming the line, before anything is installed.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement

from emulator.execution.code import DeployError

FILE_NAME = "requirements.txt"
# Options a requirements file may carry that the installer understands (passed on as written).
GLOBAL_OPTIONS = (
    "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links", "--pre",
    "--trusted-host", "--prefer-binary", "--only-binary", "--no-binary",
)  # fmt: skip
# Options after a requirement on its own line (``pkg==1 --hash=sha256:...``).
LINE_OPTIONS = ("--hash", "--config-settings", "--global-option")
_INCLUDE = ("-r", "--requirement")
_UNSUPPORTED = ("-c", "--constraint", "-e", "--editable")
_DOCSTRING_TAG = re.compile(r"^\s*\[(/?)requirements\]\s*$", re.M)
MAX_INCLUDE_DEPTH = 10


@dataclass
class Requirements:
    """A function's requirements, flattened (``-r`` files inlined): what the installer gets."""

    requirements: list[Requirement] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the requirement lines, as written
    options: list[str] = field(default_factory=list)  # global option lines, as written

    def __bool__(self) -> bool:
        return bool(self.requirements)

    def text(self) -> str:
        """The flattened file the installer reads."""
        return "".join(f"{line}\n" for line in [*self.options, *self.lines])

    def names(self) -> set[str]:
        return {canonical(r.name) for r in self.requirements}


def canonical(name: str) -> str:
    """A distribution name in PEP 503 form (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def docstring_requirements(docstring: str | None) -> list[str]:
    """The lines between ``[requirements]`` and ``[/requirements]`` in a docstring (the SDK's
    convention for ``function_handle`` deployments), or [] when there is no such block."""
    if not docstring:
        return []
    start = end = None
    for match in _DOCSTRING_TAG.finditer(docstring):
        if match.group(1):
            end = match.start()
        elif start is None:
            start = match.end()
    if start is None or end is None or end < start:
        return []
    return [line.strip() for line in docstring[start:end].splitlines() if line.strip()]


def read_requirements(root: Path) -> Requirements:
    """Parse ``requirements.txt`` at the root of an unpacked function (empty when there is none)."""
    found = Requirements()
    path = root / FILE_NAME
    if path.is_file():
        _read(root, PurePosixPath(FILE_NAME), found, depth=0)
    return found


def _read(root: Path, rel: PurePosixPath, into: Requirements, depth: int) -> None:
    try:
        text = (root / rel).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _invalid(rel, None, "the file is not UTF-8 text") from None
    for number, line in _logical_lines(text):
        where = (rel, number)
        if line.startswith("-"):
            _option(root, line, where, into, depth)
            continue
        spec, _, options = line.partition(" --")
        if options and not any(f"--{options}".startswith(o) for o in LINE_OPTIONS):
            raise _invalid(rel, number, f"{line!r}: unknown option --{options.split()[0]}")
        try:
            requirement = Requirement(spec.strip())
        except InvalidRequirement as exc:
            hint = " (local paths and bare URLs are not supported: use 'name @ URL')" if (
                "/" in spec or spec.startswith(".")) else ""  # fmt: skip
            raise _invalid(rel, number, f"{line!r} is not a valid requirement{hint}", str(exc)) from None
        into.requirements.append(requirement)
        into.lines.append(line)


def _option(root: Path, line: str, where: tuple[PurePosixPath, int], into: Requirements, depth: int) -> None:
    rel, number = where
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise _invalid(rel, number, f"{line!r}: {exc}") from None
    flag, _, value = words[0].partition("=")
    value = value or " ".join(words[1:])
    if flag in _INCLUDE:
        included = PurePosixPath(value)
        target = rel.parent / included
        if not value or included.is_absolute() or ".." in target.parts or not (root / target).is_file():
            raise _invalid(rel, number, f"{line!r}: no file {value!r} in the function's zip")
        if depth >= MAX_INCLUDE_DEPTH:
            raise _invalid(rel, number, f"{line!r}: -r files nest more than {MAX_INCLUDE_DEPTH} deep")
        _read(root, target, into, depth + 1)
    elif flag in _UNSUPPORTED:
        raise _invalid(rel, number, f"{line!r}: {flag} is not supported by the emulator's build step")
    elif flag in GLOBAL_OPTIONS:
        into.options.append(line)
    else:
        raise _invalid(rel, number, f"{line!r}: unknown option {flag}")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) without comments, blank lines and backslash continuations, as pip reads."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line, pending = (pending + line).strip(), ""
        if line:
            out.append((start, line))
    if pending.strip():
        out.append((start, pending.strip()))
    return out


def _invalid(rel: PurePosixPath, number: int | None, message: str, detail: str | None = None) -> DeployError:
    where = f"{rel}, line {number}" if number is not None else str(rel)
    return DeployError(f"Invalid requirements ({where}): {message}", detail)
