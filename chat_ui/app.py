"""The Chainlit app: wires the chat's events to the agent façade (`agent.session`).

Started by `retouch ui` (see chat_ui/launch.py). Each hook only routes: a request
goes to chat_ui.request (which calls `RetouchSession.send` and shows the events with
chat_ui.render); commands, buttons and sessions live in their own modules. Errors reach the person as one readable line;
the traceback goes to the server log only.
"""

from __future__ import annotations

import logging

import chainlit as cl

from agent.errors import USER_ERRORS
from chat_ui import actions, chat_session, commands
from chat_ui.history import send_history
from chat_ui.launch import remove_app_root
from chat_ui.request import handle_request

log = logging.getLogger("retouch.chat")


@cl.on_app_shutdown
async def on_app_shutdown() -> None:
    remove_app_root()


@cl.on_chat_start
async def on_chat_start() -> None:
    await guarded(chat_session.start_chat)


@cl.on_message
async def on_message(message: cl.Message) -> None:
    command = commands.parse(message)
    if command is not None:
        await guarded(commands.run, *command)
    else:
        await guarded(handle_request, message)


# ----- buttons ----------------------------------------------------------------------------

def button(handler):
    async def callback(action: cl.Action) -> None:
        await guarded(handler, chat_session.current(), action.payload or {})

    return callback


for _name, _handler in {
    "undo": actions.undo, "revert": actions.revert, "branch": actions.branch,
    "compare": actions.compare, "download": actions.download, "use_version": actions.use_version,
    "checkout": actions.checkout,
}.items():
    cl.action_callback(_name)(button(_handler))


@cl.action_callback("show_history")
async def on_show_history(action: cl.Action) -> None:
    await guarded(send_history, chat_session.current())


@cl.action_callback("list_sessions")
async def on_list_sessions(action: cl.Action) -> None:
    await guarded(chat_session.list_sessions)


@cl.action_callback("new_session")
async def on_new_session(action: cl.Action) -> None:
    await guarded(chat_session.new_session)


@cl.action_callback("switch_session")
async def on_switch_session(action: cl.Action) -> None:
    await guarded(chat_session.switch_session, str((action.payload or {}).get("name", "")))


# ----- helpers ----------------------------------------------------------------------------

async def guarded(handler, *args) -> None:
    """Run one request or button, one at a time per chat; errors become a readable message."""
    async with chat_session.request_lock():
        try:
            await handler(*args)
        except USER_ERRORS as exc:
            await cl.Message(content=f"⚠ {exc}").send()
        except Exception as exc:  # a bug: say so plainly, keep the traceback for the log
            log.exception("chat request failed")
            await cl.Message(content=f"⚠ Something went wrong inside retouch ({type(exc).__name__}: "
                                     f"{exc}). Versions made so far are kept; the server log has "
                                     f"the details.").send()
