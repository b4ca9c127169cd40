"""Talking to retouch from the terminal: plan, edit, chat. All three use RetouchSession."""

from __future__ import annotations

import argparse
import sys

from agent.cli.common import print_json, session_name, settings_from
from agent.errors import USER_ERRORS, AgentError
from agent.events import AgentEvent
from storage import load_image


def register(subparsers, common: argparse.ArgumentParser) -> None:
    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, parents=[common], help=help_text,
                                       description=help_text)
        parser.set_defaults(func=func)
        parser.add_argument("--planner", choices=["offline", "llm", "hybrid"],
                            help="planner to use (default: from the configuration)")
        return parser

    parser = add("plan", cmd_plan, "print the plan for a request without running it")
    parser.add_argument("text", help="the request, e.g. \"remove the cup, then make it warmer\"")
    _attachments(parser)
    parser.add_argument("--json", action="store_true",
                        help="print the Plan as JSON: {steps: [{tool, args}], reply, clarify}")

    parser = add("edit", cmd_edit, "plan a request and run it on the session, step by step")
    parser.usage = ("retouch edit [IMAGE] TEXT [--mask M]... [--ref IMG]... [-o OUT] [--json] "
                    "[--planner NAME]")
    parser.add_argument("words", nargs="+", metavar="[IMAGE] TEXT",
                        help="optionally an image to import first, then the request (quoted)")
    _attachments(parser)
    parser.add_argument("-o", "--output", help="write the final image to this file")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")

    parser = add("chat", cmd_chat, "a conversation in the terminal on the session "
                                   "(/image, /mask, /ref attach files; /help)")


def _attachments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mask", action="append", default=[], metavar="M",
                        help="mask image (white = region) or a scribbled copy of the photo "
                             "(red paint = region); repeat for 'mask 1', 'mask 2'")
    parser.add_argument("--ref", action="append", default=[], metavar="IMG",
                        help="reference image ('reference 1', 'reference 2', ...); repeatable")


def _session(args):
    from agent.session import RetouchSession

    return RetouchSession(session_name(args), settings_from(args), planner_kind=args.planner)


# ----- plan ----------------------------------------------------------------------------------

def cmd_plan(args) -> int:
    for path in args.mask + args.ref:
        load_image(path)  # a missing or broken file is an error now, not a confusing plan
    plan = _session(args).plan(args.text, masks=args.mask, references=args.ref)
    if args.json:
        print_json(plan.to_json())
    else:
        print(plan.describe())
    return 0


# ----- edit ----------------------------------------------------------------------------------

def cmd_edit(args) -> int:
    if len(args.words) > 2:
        raise AgentError("edit takes an optional IMAGE and one TEXT: quote the request, e.g. "
                         "retouch edit photo.jpg \"remove the cup\"")
    image, text = (args.words if len(args.words) == 2 else (None, args.words[0]))
    session = _session(args)
    printer = EventPrinter(quiet=args.json)
    events = list(printer.follow(session.send(text, images=[image] if image else [],
                                              masks=args.mask, references=args.ref)))
    failed = next((e for e in events if e.kind == "failed"), None)
    question = next((e for e in events if e.kind == "clarify"), None)
    made = [e.version for e in events if e.kind == "committed" and e.version]
    written = None
    if args.output and not failed and not question and session.history.exists():
        written = str(session.history.export(session.history.head().id, args.output))
    if args.json:
        print_json({"versions": made, "reply": events[-1].message if events else "",
                    "failed": failed.model_dump() if failed else None,
                    "clarify": question.message if question else None, "output": written})
    elif written:
        print(f"wrote {written}")
    # A question or a failed step: nothing (or not everything) was done as asked.
    return 1 if question or failed else 0


class EventPrinter:
    """Prints a request's events: the plan, a progress bar per step, versions, the reply."""

    def __init__(self, quiet: bool = False, out=None):
        self.quiet = quiet
        self.out = out or sys.stdout
        self.bar = None
        self.steps = 0

    def follow(self, events):
        for event in events:
            if not self.quiet:
                self.show(event)
            yield event
        self._close_bar()

    def show(self, event: AgentEvent) -> None:
        kind = event.kind
        if kind == "planned":
            self.steps = len((event.plan or {}).get("steps", []))
            if self.steps > 1 and event.message:
                print(event.message, file=self.out)  # a compound request: say the plan first
        elif kind == "started":
            self._open_bar(event)
        elif kind == "progress" and self.bar is not None:
            self.bar.n = round(100 * (event.fraction or 0.0))
            self.bar.set_postfix_str(event.message[:40], refresh=False)
            self.bar.refresh()
        elif kind in ("committed", "history"):
            self._close_bar(done=True)
            print(event.message, file=self.out)
        elif kind == "failed":
            self._close_bar()
            where = f"step {event.step + 1} ({event.tool}) " if event.step is not None else ""
            print(f"{where}failed: {event.message}", file=sys.stderr)
        elif kind == "reply":
            self._close_bar()
            # The per-step lines were printed as they came; print only the closing line(s).
            tail = [line for line in event.message.splitlines() if line.startswith(("Now at",
                                                                                   "Kept", "Not run"))]
            text = "\n".join(tail) if self.steps and tail else event.message
            print(text, file=self.out)
        elif kind == "clarify":
            print(event.message, file=self.out)

    def _open_bar(self, event: AgentEvent) -> None:
        from tqdm import tqdm

        self._close_bar()
        label = f"[{event.step + 1}/{self.steps}] {event.message}" if self.steps else event.message
        self.bar = tqdm(total=100, desc=label[:60], unit="%", file=sys.stderr, leave=False,
                        disable=None,  # no bars when stderr is not a terminal
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}{postfix}")

    def _close_bar(self, done: bool = False) -> None:
        if self.bar is not None:
            if done:
                self.bar.n = 100
                self.bar.refresh()
            self.bar.close()
            self.bar = None


# ----- chat ----------------------------------------------------------------------------------

CHAT_HELP = """Type a request ("remove the cup, then make it warmer"), or:
  /image PATH   import a photo to edit (it becomes the new head)
  /mask PATH    attach a mask or red scribble to the next request
  /ref PATH     attach a reference image ('reference 1', ...) to the next request
  /history      the version tree        /status   backends and planner
  /save PATH    write the current image /quit     leave (Ctrl-D works too)"""


def cmd_chat(args) -> int:
    from agent.history_view import render_tree

    session = _session(args)
    printer = EventPrinter()
    earlier = session.conversation()
    print(f"retouch chat, session '{session.name}' ({session.planner.describe()}). /help for "
          f"commands.")
    if earlier:
        print(f"Resuming {len(earlier)} earlier exchange(s); last: \"{earlier[-1]['user']}\"")
    images, masks, references = [], [], []
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input("you> " if interactive else "")
        except EOFError:
            break
        line = line.strip()
        if not line:
            continue
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if command in ("/quit", "/exit", "/q"):
                break
            elif command == "/help":
                print(CHAT_HELP)
            elif command in ("/image", "/mask", "/ref"):
                if not rest:
                    raise AgentError(f"{command} needs a file path")
                load_image(rest)
                {"/image": images, "/mask": masks, "/ref": references}[command].append(rest)
                print(f"attached {rest} for the next request")
            elif command == "/history":
                print(render_tree(session.history.log(), session.history.current_branch))
            elif command == "/status":
                print(session.status())
            elif command == "/save":
                print(session.history.export(session.history.head().id, rest or "retouch.png"))
            elif command.startswith("/"):
                print(f"unknown command {command}; /help lists them")
            else:
                for _ in printer.follow(session.send(line, images=images, masks=masks,
                                                     references=references)):
                    pass
                images, masks, references = [], [], []
        except USER_ERRORS as exc:
            print(f"retouch: error: {exc}", file=sys.stderr)
    return 0
