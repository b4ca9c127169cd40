"""Text views of a session's history: the version tree and one-line summaries.

Shared by the CLI, the chat and the MCP server so that history reads the same everywhere.
"""

from __future__ import annotations

from collections import defaultdict

from storage import Version


def summarize(version: Version, max_len: int = 60) -> str:
    """`relight(description=warm)` or `import astronaut.png`: what made a version."""
    if version.tool == "import":
        source = (version.args or {}).get("source") or ""
        return f"import {source.rsplit('/', 1)[-1]}".strip()
    # "assets" holds the ids of the kept mask/reference uploads: bookkeeping, not the edit.
    args = ", ".join(f"{key}={value}" for key, value in (version.args or {}).items()
                     if value not in (None, "", [], {}) and key != "assets")
    text = f"{version.tool}({args})"
    return text if len(text) <= max_len else text[: max_len - 1] + "…"


def render_tree(versions: list[Version], current_branch: str) -> str:
    """The version tree, roots first; a single child continues in its parent's column.

        1  import astronaut.png
        2  remove_object(target=cup)
        ├─ 3  relight(description=warm)         ← main (HEAD)
        └─ 4  replace_background(description=forest)  ← forest
    """
    if not versions:
        return "(no versions yet: import an image first)"
    children: dict[int | None, list[Version]] = defaultdict(list)
    for version in versions:
        children[version.parent_id].append(version)
    width = len(str(versions[-1].id))
    lines: list[str] = []
    # Iterative depth-first walk: a 10,000-edit chain must not hit the recursion limit.
    stack = [(root, "", "") for root in reversed(children[None])]
    while stack:
        version, lead, cont = stack.pop()
        lines.append(f"{lead}{version.id:>{width}}  {summarize(version)}{_refs(version, current_branch)}")
        kids = children.get(version.id, [])
        if len(kids) == 1:
            stack.append((kids[0], cont, cont))
            continue
        for index in reversed(range(len(kids))):
            last = index == len(kids) - 1
            stack.append((kids[index], cont + ("└─ " if last else "├─ "),
                          cont + ("   " if last else "│  ")))
    return "\n".join(lines)


def _refs(version: Version, current_branch: str) -> str:
    if not version.branches:
        return ""
    names = [f"{name} (HEAD)" if name == current_branch else name for name in version.branches]
    return "  ← " + ", ".join(names)
