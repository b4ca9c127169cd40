"""The MCP tools: other agents edit images through the same façade sessions and history.

Every tool is a thin translation: MCP arguments -> `RetouchSession` calls (or
`storage.History` reads), façade events -> progress notifications, and versions
-> JSON and PNG image content. Nothing here plans, edits or writes history itself.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
from pathlib import Path
from typing import Annotated, Any

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError as McpToolError
from mcp.types import CallToolResult, ImageContent, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError, WithJsonSchema

from agent.apply import with_attachments
from agent.config import Settings
from agent.errors import USER_ERRORS, AgentError
from agent.events import AgentEvent
from agent.mcp.images import MAX_UPLOAD_BYTES, image_argument, version_png
from agent.mcp.outcome import EditOutcome, OutcomeBuilder
from agent.mcp.sessions import SessionPool
from agent.plan import MAX_VARIANTS, Plan
from storage import NotFound
from tools.registry import operations, validate_args

log = logging.getLogger("retouch.mcp")

INSTRUCTIONS = """\
retouch edits images by instruction and keeps every result as a version in a
history (like commits in git): nothing is ever overwritten or deleted, undo and
revert only move the branch head. Images are passed as absolute file paths on the
server's disk, file:// URLs, or data:image/png;base64,... URLs, and come back as
PNG image content. Start with edit_image(instruction, image=...); later requests
on the same session continue from its head. Use apply_operation for one exact
operation (see list_operations), history/get_image to inspect, undo/revert/branch/
checkout to move around. `session` names a separate history (default: the server's)."""

# Request bodies carry images as data URLs: allow a large photo, base64-encoded.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES * 4 // 3 + 1024 * 1024

SessionArg = Annotated[str | None, Field(
    description="Session (a separate history) to use; default: the server's session")]
VersionArg = Annotated[int | str | None, Field(
    description="Version id as shown by `history` (e.g. 3); default: the current head")]
ImageList = Annotated[list[str] | None, Field(
    description="Reference images (paths or data URLs), named 'reference 1', 'reference 2', ... "
                "in instructions and arguments")]
MaskArg = Annotated[str | None, Field(
    description="Region to edit: a black-and-white mask (white = edit) or a copy of the image "
                "with the region painted red; path or data URL")]


class OperationInfo(BaseModel):
    name: str
    description: str
    local: bool = Field(description="True: pixels outside the edited region are kept exactly")
    backends: list[str] = Field(description="Backends on this server that can run it; "
                                            "empty: needs a diffusion backend not configured here")
    args_schema: dict[str, Any] = Field(description="JSON schema of the operation's arguments")


class OperationList(BaseModel):
    operations: list[OperationInfo]


class HeadMoved(BaseModel):
    message: str = Field(description="What happened, in one line")
    version: dict[str, Any] = Field(description="The version the branch head points at now")


def build_server(settings: Settings, default_session: str = "default",
                 host: str = "127.0.0.1") -> FastMCP:
    """The retouch MCP server over the sessions in `settings.data_dir`."""
    pool = SessionPool(settings, default_session)
    server = _RetouchMCP("retouch", instructions=INSTRUCTIONS, host=host,
                     max_request_body_size=MAX_REQUEST_BYTES, log_level="WARNING")
    read_only = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
    # Nothing is ever deleted: edits add versions and history moves only move a head.
    additive = ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False)
    overwrites = ToolAnnotations(readOnlyHint=False, destructiveHint=True, openWorldHint=False)
    register = functools.partial(_register, server)  # @register(...): an MCP tool

    @register(annotations=additive)
    async def edit_image(
        instruction: Annotated[str, Field(description=(
            "What to do, in plain words; several steps are fine, e.g. 'remove the cup, then "
            "make the background a sunset and the light warmer'"))],
        ctx: Context,
        image: Annotated[str | None, Field(description=(
            "Photo to start from (imported as a new version first); path or data URL. "
            "Leave empty to continue from the session's current image"))] = None,
        references: ImageList = None,
        mask: MaskArg = None,
        session: SessionArg = None,
    ) -> Annotated[CallToolResult, EditOutcome]:
        """Edit an image by instruction with the whole agent: plans the request into steps, runs
        each one, commits every result as a version, and returns the versions made and the final
        image. Long edits report progress."""
        images, masks = _images(image, "image"), _images(mask, "mask")
        refs = _references(references)
        return await _run_events(
            pool, session, ctx,
            lambda s: s.send(instruction, images=images, masks=masks, references=refs),
            max_image_bytes=settings.mcp_max_image_bytes)

    @register(annotations=additive)
    async def apply_operation(
        tool: Annotated[str, Field(description="Operation name, as list_operations gives it")],
        ctx: Context,
        args: Annotated[dict[str, Any] | None, WithJsonSchema(_operation_args_schema())] = None,
        session: SessionArg = None,
        version: Annotated[int | str | None, Field(description=(
            "Version to edit; default: the current head. Another version becomes the head of "
            "the current branch first (the old head stays in the history)"))] = None,
        mask: MaskArg = None,
        references: ImageList = None,
        backend: Annotated[str | None, Field(description=(
            "Backend to run it on (see list_operations); default: the first that can"))] = None,
        variants: Annotated[int, Field(ge=1, le=MAX_VARIANTS, description=(
            "How many variants to make with different seeds; all are kept, the first "
            "becomes the head"))] = 1,
    ) -> Annotated[CallToolResult, EditOutcome]:
        """Run exactly one registry operation on the session's image, no planning: for agents that
        plan themselves. Commits the result as a new version and returns it with the image."""
        mask_in = image_argument(mask, "mask") if mask else None
        refs = _references(references)
        # A clear error before anything moves (with the attachments named as the façade will).
        validate_args(tool, with_attachments(tool, args or {}, mask_in is not None, len(refs)))

        def start(s):
            return _apply_on_version(s, version, tool, args or {}, mask=mask_in,
                                     references=refs, backend=backend, variants=variants)

        return await _run_events(pool, session, ctx, start,
                                 max_image_bytes=settings.mcp_max_image_bytes)

    @register(annotations=read_only)
    async def plan_edit(
        instruction: Annotated[str, Field(description="The request to plan")],
        mask: MaskArg = None,
        references: ImageList = None,
        session: SessionArg = None,
    ) -> Plan:
        """Show the plan edit_image would run for this request on the session's current state,
        without running anything."""
        masks, refs = _images(mask, "mask"), _references(references)
        return await pool.read(session, lambda s: s.plan(instruction, masks=masks,
                                                         references=refs))

    @register(annotations=read_only)
    async def list_operations() -> OperationList:
        """The edit operations apply_operation can run: name, description, JSON schema of the
        arguments, and which backends on this server can run each."""
        from agent.runtime import get_toolbox

        def collect() -> OperationList:
            toolbox = get_toolbox(settings)
            return OperationList(operations=[
                OperationInfo(name=spec.name, description=spec.description, local=spec.local,
                              backends=[b.name for b in toolbox.backends_for(spec.name)],
                              args_schema=_inline_refs(spec.args_model.model_json_schema()))
                for spec in sorted(operations().values(), key=lambda spec: spec.name)])

        return await _to_thread(collect)

    @register(annotations=read_only, structured_output=False)
    async def status(session: SessionArg = None) -> str:
        """One paragraph on what this server can and cannot do right now: the planner, the
        backends and their operations, and where the session is."""
        return await pool.read(session, lambda s: s.status())

    @register(annotations=read_only, structured_output=False)
    async def history(session: SessionArg = None) -> str:
        """The session's versions as JSON text, in creation order (as `retouch log --json` prints
        them): id, parent_id, tool, args, backend, seed, instruction, size, branches at it."""
        versions = await pool.read(session, lambda s: [v.to_json() for v in s.history.log()])
        return json.dumps(versions, indent=2, default=str)

    @register(annotations=read_only, structured_output=False)
    async def list_sessions() -> str:
        """Every session in this server's data folder as JSON text (as `retouch sessions --json`
        prints it): name, current branch, number of versions, last activity."""
        infos = await pool.read(None, lambda s: s.history.store.sessions())
        return json.dumps([info.__dict__ for info in infos], indent=2, default=str)

    @register(annotations=read_only, structured_output=False)
    async def get_image(
        version: VersionArg = None,
        session: SessionArg = None,
        max_side: Annotated[int | None, Field(ge=16, description=(
            "Downscale so the longer side is at most this many pixels"))] = None,
    ) -> CallToolResult:
        """A version's image as PNG image content (downscaled only if asked, or if it would pass
        the server's size cap; save_image writes it at full size)."""

        def fetch():
            history = pool.get(session).history
            chosen = history.head() if _is_head(version) else history.version(version)
            return chosen, version_png(history, chosen, settings.mcp_max_image_bytes, max_side)

        chosen, encoded = await _to_thread(fetch)
        text = f"version {chosen.id} of session '{chosen.session}': {encoded.describe()}"
        return CallToolResult(content=[TextContent(type="text", text=text),
                                       _image_content(encoded.png)])

    @register(annotations=overwrites, structured_output=False)
    async def save_image(
        path: Annotated[str, Field(description=(
            "File to write on the server's disk; the suffix gives the format (.png, .jpg)"))],
        version: VersionArg = None,
        session: SessionArg = None,
    ) -> str:
        """Write a version's image to a file at full size (an existing file is replaced)."""
        target = Path(path).expanduser()
        if not target.is_absolute():
            raise AgentError(f"save_image needs an absolute path ('{path}' would depend on "
                             f"where the server was started)")

        def save() -> str:
            history = pool.get(session).history
            chosen = history.head() if _is_head(version) else history.version(version)
            return f"wrote version {chosen.id} to {history.export(chosen.id, target)}"

        return await _to_thread(save)

    @register(annotations=additive)
    async def undo(
        steps: Annotated[int, Field(ge=1, description="How many steps back")] = 1,
        session: SessionArg = None,
    ) -> HeadMoved:
        """Move the branch head back to its parent (the undone versions stay in the history)."""
        return await _move(pool, session, lambda s: s.undo(steps), "{branch} is now at {what}")

    @register(annotations=additive)
    async def revert(
        version: Annotated[int | str, Field(description="Version id to go back (or forward) to")],
        session: SessionArg = None,
    ) -> HeadMoved:
        """Make any version the head of the current branch; nothing is deleted."""
        return await _move(pool, session, lambda s: s.revert(version), "{branch} is now at {what}")

    @register(annotations=additive)
    async def branch(
        name: Annotated[str | None, Field(
            description="New branch name; default: one is made up")] = None,
        from_version: VersionArg = None,
        session: SessionArg = None,
    ) -> HeadMoved:
        """Create a branch at a version (default: the head) and switch to it; later edits go
        there."""
        return await _move(pool, session, lambda s: s.branch(name, from_version),
                           "switched to new branch {branch} at {what}")

    @register(annotations=additive)
    async def checkout(
        branch: Annotated[str, Field(description="Branch to switch to")],
        session: SessionArg = None,
    ) -> HeadMoved:
        """Switch to another branch; later edits continue from its head."""
        return await _move(pool, session, lambda s: s.checkout(branch),
                           "switched to branch {branch} at {what}")

    return server


class _RetouchMCP(FastMCP):
    """FastMCP whose argument errors read as one line, like every other retouch error."""

    async def call_tool(self, name: str, arguments: dict[str, Any]):
        try:
            return await super().call_tool(name, arguments)
        except McpToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise McpToolError(f"bad arguments for {name}: "
                                   f"{_one_line(exc.__cause__)}") from None
            raise


# ----- running requests -------------------------------------------------------------------


async def _run_events(pool: SessionPool, session: str | None, ctx: Context, start,
                      max_image_bytes: int) -> CallToolResult:
    """Drive a façade generator, forwarding progress; fold its events into the tool result."""
    name = pool.name(session)
    builder = OutcomeBuilder(name)
    progress = _Progress(ctx, builder)
    moved = False
    async for event in pool.stream(name, start):
        builder.add(event)
        moved = moved or event.kind in ("committed", "history")
        await progress.forward(event)

    def finish():
        history = pool.get(name).history
        try:
            head = history.head()
        except NotFound:
            return None, []
        if not moved:
            return head, []
        # The final image; with variants, the other options made beside it too.
        shown = [head] + [history.version(v["id"]) for v in builder.versions
                          if v["id"] != head.id and v["parent_id"] == head.parent_id]
        return head, [(v, version_png(history, v, max_image_bytes)) for v in shown]

    head, pictures = await _to_thread(finish)
    outcome = builder.outcome(head.to_json() if head else None)
    content: list = [TextContent(type="text", text=outcome.summary()),
                     TextContent(type="text", text=outcome.to_text())]
    for number, (version, encoded) in enumerate(pictures):
        if len(pictures) > 1:
            label = "the head" if number == 0 else "another option"
            content.append(TextContent(type="text", text=f"version {version.id} ({label}): "
                                                         f"{encoded.describe()}"))
        content.append(_image_content(encoded.png))
    return CallToolResult(content=content, structuredContent=outcome.model_dump(mode="json"),
                          isError=outcome.status == "failed")


def _apply_on_version(session, version, tool, args, **options):
    """session.apply on `version` (the head by default); if nothing is made, the head goes back."""
    if _is_head(version):
        yield from session.apply(tool, args, **options)
        return
    before = session.history.head()
    target = session.history.version(version)
    if target.id != before.id:
        session.revert(target.id)
    committed = False
    try:
        for event in session.apply(tool, args, **options):
            committed = committed or event.kind == "committed"
            yield event
    finally:
        if not committed and target.id != before.id:
            session.revert(before.id)


async def _move(pool: SessionPool, session: str | None, change, template: str) -> HeadMoved:
    def run() -> HeadMoved:
        version = change(pool.get(session))
        branch_name = pool.get(session).history.current_branch
        what = f"version {version.id} ({version.instruction or version.tool}, " \
               f"{version.width}x{version.height})"
        return HeadMoved(message=template.format(branch=branch_name, what=what),
                         version=version.to_json())

    return await pool.write(session, lambda _s: run())


class _Progress:
    """Façade events -> MCP progress notifications (steps done of steps planned) and log lines."""

    def __init__(self, ctx: Context, builder: OutcomeBuilder):
        self.ctx = ctx
        self.builder = builder
        self.done = 0.0

    async def forward(self, event: AgentEvent) -> None:
        total = self.builder.steps
        step = event.step or 0
        label = f"step {step + 1}/{total}" + (f" {event.tool}" if event.tool else "")
        if event.kind == "planned":
            await self._report(0.0, total, f"planned {total} step(s)")
        elif event.kind == "started":
            await self._report(step, total, f"{label}: started")
            await self.ctx.info(f"{label}: started")
        elif event.kind == "progress" and event.fraction is not None:
            await self._report(step + event.fraction, total,
                               f"{label}: {event.message or f'{event.fraction:.0%}'}")
        elif event.kind == "committed":
            version_id = (event.version or {}).get("id")
            await self._report(step + 1, total, f"{label}: version {version_id}")
            await self.ctx.info(f"{label}: committed version {version_id}")
        elif event.kind == "failed":
            await self.ctx.warning(f"{label} failed: {event.message}")

    async def _report(self, progress: float, total: int, message: str) -> None:
        self.done = max(self.done, min(float(progress), float(total)))  # never goes backwards
        await self.ctx.report_progress(self.done, total, message)


# ----- helpers ----------------------------------------------------------------------------


def _register(server: FastMCP, fn=None, **options):
    """`@tool(...)`: register `fn` as an MCP tool whose user errors come back as one clear line."""

    def decorate(fn):
        @functools.wraps(fn)
        async def guarded(*args, **kwargs):
            try:
                return await fn(*args, **kwargs)
            except McpToolError:
                raise
            except USER_ERRORS as exc:
                raise McpToolError(str(exc)) from None
            except Exception as exc:  # a bug: keep serving, say what broke, log the traceback
                log.exception("tool %s failed", fn.__name__)
                raise McpToolError(f"internal error ({type(exc).__name__}): {exc}") from None

        server.add_tool(guarded, name=fn.__name__, description=_doc(fn), **options)
        return fn

    return decorate if fn is None else decorate(fn)


def _one_line(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: "
                     f"{error['msg']}" for error in exc.errors())


def _doc(fn) -> str:
    return " ".join((fn.__doc__ or "").split())


async def _to_thread(work):
    return await asyncio.to_thread(work)


def _images(value: str | None, what: str) -> list:
    """An optional image argument as the façade's list of images (empty when not given)."""
    return [image_argument(value, what)] if value else []


def _references(values: list[str] | None) -> list:
    return [image_argument(value, f"reference {n}") for n, value in enumerate(values or (), 1)]


def _is_head(version) -> bool:
    return version is None or str(version).strip().lower() in ("", "head")


def _image_content(png: bytes) -> ImageContent:
    return ImageContent(type="image", data=base64.b64encode(png).decode("ascii"),
                        mimeType="image/png")


def _operation_args_schema() -> dict[str, Any]:
    """apply_operation's `args`: one of the operations' own argument schemas."""
    choices = []
    for spec in sorted(operations().values(), key=lambda spec: spec.name):
        schema = _inline_refs(spec.args_model.model_json_schema())
        schema["title"] = f"{spec.name} arguments"
        choices.append(schema)
    return {"anyOf": [*choices, {"type": "null"}],
            "description": "Arguments of the operation named in `tool` (its schema is the "
                           "matching one below, also given by list_operations)"}


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve local `$ref`s so the schema can be nested inside another one."""
    definitions = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                merged = {**definitions[ref.rsplit("/", 1)[-1]],
                          **{k: v for k, v in node.items() if k != "$ref"}}
                return resolve(merged)
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)
