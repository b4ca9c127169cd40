"""Benchmark of the MCP server: what the door adds on top of the façade. Prints figures.

    .venv/bin/python bench/mcp_server.py [--repeat 20]

- start-up: spawning `retouch mcp` over stdio until the first tools/list answers;
- round trip of `history` (a small read) over stdio and HTTP, median and p95;
- `get_image` of a 1-megapixel version (PNG encode + base64 + transport);
- `edit_image` of a one-step classic edit on a 1-megapixel photo over both transports,
  taking turns with the same request run in-process on the façade: the difference is the
  server's overhead (mostly sending the result back as a PNG).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.config import load_settings  # noqa: E402
from agent.session import RetouchSession  # noqa: E402
from tests.mcp.client import HttpServer, McpClient, http_connection, stdio_connection  # noqa: E402


def megapixel_photo(path: Path) -> Path:
    from skimage import data

    Image.fromarray(data.astronaut()).resize((1000, 1000), Image.LANCZOS).save(path)
    return path


def timed(work, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def line(label: str, times: list[float]) -> str:
    p95 = float(np.percentile(times, 95))
    median = statistics.median(times)
    return f"{label:<44} median {median * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms"


def measure_reads(client: McpClient, session: str, repeat: int) -> None:
    print(line(f"[{client.name}] history round trip", timed(
        lambda: client.call("history", {"session": session}), repeat)))
    print(line(f"[{client.name}] get_image 1000x1000", timed(
        lambda: client.call("get_image", {"session": session}), repeat)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        photo = megapixel_photo(tmp_path / "photo.png")
        data_dir = tmp_path / "data"
        server = HttpServer(data_dir, tmp_path / "http.log")
        start = time.perf_counter()
        try:
            with McpClient(stdio_connection(data_dir, tmp_path / "stdio.log"), "stdio") as stdio, \
                    McpClient(http_connection(server.url, None), "http") as http:
                stdio.list_tools()
                print(f"{'[stdio] start-up to first tools/list':<44} "
                      f"{time.perf_counter() - start:8.2f} s")
                direct = RetouchSession("bench-direct", load_settings(data_dir=data_dir))
                edit = "make it black and white"
                list(direct.send(edit, images=[photo]))
                for client in (stdio, http):
                    first = {"instruction": edit, "image": str(photo), "session": client.name}
                    assert not client.call("edit_image", first).isError
                    measure_reads(client, client.name, options.repeat)
                # The same one-step edit, taking turns so that the machine's load hits all alike.
                times: dict[str, list[float]] = {"stdio": [], "http": [], "in-process": []}
                for _ in range(max(5, options.repeat // 2)):
                    for client in (stdio, http):
                        times[client.name] += timed(lambda: client.call(
                            "edit_image", {"instruction": edit, "session": client.name}), 1)
                    times["in-process"] += timed(lambda: list(direct.send(edit)), 1)
                for name, values in times.items():
                    what = "façade send" if name == "in-process" else "edit_image"
                    print(line(f"[{name}] {what}, one classic step", values))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
