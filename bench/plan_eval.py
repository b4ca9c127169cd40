"""Planner evaluation: tool-sequence accuracy, argument accuracy and latency per request.

    python bench/plan_eval.py                                  # offline planner, shared cases
    python bench/plan_eval.py --cases bench/plan_cases.jsonl --planner hybrid --json

Each case runs on a real session in a temporary data dir: the photo is imported
(@0), the case's `history` is committed as versions @1, @2, ..., masks and
references are attached as asked, then `RetouchSession.plan` plans the request
exactly as `retouch plan` would. Case format and scoring: ../shared/eval/README.md;
our own cases may also expect `"variants": "3"` (how many options a step makes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_CASES = REPO.parent / "shared" / "eval" / "plans.jsonl"


def load_cases(path: Path) -> list[dict]:
    lines = Path(path).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def run_case(case: dict, data_dir: Path, index: int, planner=None, kind: str | None = None) -> dict:
    from agent.config import load_settings
    from agent.session import RetouchSession
    from storage import Operation

    settings = load_settings(data_dir=data_dir)
    session = RetouchSession(f"case-{index}", settings, planner=planner, planner_kind=kind)
    timed = _Timed(session.planner)
    session.planner = timed
    photo = Image.new("RGB", (64, 48), (120, 90, 60))
    ids = [session.history.import_image(photo, name="photo.png").id]
    for entry in case.get("history", []):
        version = session.history.commit(photo, Operation(tool=entry["tool"], args=entry["args"],
                                                          instruction=entry.get("instruction")))
        ids.append(version.id)
    inputs = case.get("inputs", {})
    masks = [Image.new("L", photo.size, 255)] if inputs.get("mask") else []
    references = [Image.new("RGB", (32, 32), (10 * n, 50, 90)) for n in range(inputs.get("references", 0))]
    start = time.perf_counter()
    try:
        plan = session.plan(case["request"], masks=masks, references=references)
        error = None
    except Exception as exc:  # an evaluation reports every failure and goes on
        plan, error = None, f"{type(exc).__name__}: {exc}"
    latency = time.perf_counter() - start
    got = [(step.tool, {**step.args, **({"variants": step.variants} if step.variants > 1 else {})})
           for step in plan.steps] if plan else []
    tools_ok = plan is not None and [tool for tool, _ in got] == [tool for tool, _ in case["expect"]] \
        and bool(plan.clarify) == bool(case.get("clarify", False))
    args_ok = tools_ok and all(_has_keywords(args, expected, ids)
                               for (_, args), (_, expected) in zip(got, case["expect"]))
    return {"request": case["request"], "tools_ok": tools_ok, "args_ok": args_ok,
            "latency_s": latency, "planner_s": timed.elapsed, "expected": case["expect"], "clarify_expected": case.get("clarify", False),
            "got": [[tool, args] for tool, args in got],
            "clarify": plan.clarify if plan else None, "error": error}


class _Timed:
    """Wraps a planner to time the planner alone (session.plan adds reading the history)."""

    def __init__(self, planner):
        self.planner, self.elapsed = planner, 0.0

    def plan(self, context):
        start = time.perf_counter()
        try:
            return self.planner.plan(context)
        finally:
            self.elapsed = time.perf_counter() - start

    def describe(self) -> str:
        return self.planner.describe()


def _has_keywords(args: dict, expected: dict, ids: list[int]) -> bool:
    for key, keyword in expected.items():
        value = str(args.get(key, ""))
        if keyword.startswith("@"):
            if value.lstrip("@v") != str(ids[int(keyword[1:])]):
                return False
        elif keyword.lower() not in value.lower():
            return False
    return True


def evaluate(cases: list[dict], planner=None, kind: str | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="retouch-eval-") as tmp:
        # Warm up (imports, the registry, SQLite) so latencies are those of a running app.
        run_case({"request": "make it warmer", "expect": []}, Path(tmp) / "warm-up", -1, planner,
                 kind)
        # One data dir per case, so version ids read as in the case: @0 is version 1.
        results = [run_case(case, Path(tmp) / f"case-{index}", index, planner, kind)
                   for index, case in enumerate(cases)]
    latencies = [result["latency_s"] for result in results]
    return {
        "cases": len(results),
        "tool_accuracy": sum(r["tools_ok"] for r in results) / max(len(results), 1),
        "arg_accuracy": sum(r["args_ok"] for r in results) / max(len(results), 1),
        "latency_median_s": statistics.median(latencies) if latencies else 0.0,
        "latency_max_s": max(latencies, default=0.0),
        "planner_median_s": statistics.median(r["planner_s"] for r in results) if results else 0.0,
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="JSONL file of cases")
    parser.add_argument("--planner", choices=["offline", "llm", "hybrid"], default=None,
                        help="planner to evaluate (default: as configured)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)
    from agent.errors import USER_ERRORS

    try:
        report = evaluate(load_cases(args.cases), kind=args.planner)
    except USER_ERRORS as exc:  # e.g. --planner llm with no model configured
        print(f"plan_eval: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    for result in report["results"]:
        mark = "ok " if result["args_ok"] else ("~  " if result["tools_ok"] else "XX ")
        print(f"{mark}{result['latency_s'] * 1000:7.1f} ms  {result['request']}")
        if not result["args_ok"]:
            print(f"       expected {result['expected']}"
                  f"{' (clarify)' if result['clarify_expected'] else ''}")
            print(f"       got      {result['got']}"
                  f"{' clarify: ' + result['clarify'] if result['clarify'] else ''}"
                  f"{' error: ' + result['error'] if result['error'] else ''}")
    print(f"\n{report['cases']} cases from {args.cases.name}: tool-sequence accuracy "
          f"{report['tool_accuracy']:.0%}, argument accuracy {report['arg_accuracy']:.0%}, "
          f"latency median {report['latency_median_s'] * 1000:.1f} ms, "
          f"max {report['latency_max_s'] * 1000:.1f} ms (the planner alone: median "
          f"{report['planner_median_s'] * 1000:.2f} ms; the rest is reading the session's history)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
