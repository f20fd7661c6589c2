"""The documentation site in a real browser: build it, serve it, open pages in headless Chromium.

Chromium is driven over the Chrome DevTools protocol on a websocket written here with the standard
library only (no playwright or selenium). For each page the test checks what a reader sees: the
chapter heading, every figure loaded (``naturalWidth > 0``), no console error or failed request,
no request to another host (the site must work offline) and no unrendered math markup. Screenshots
are written to ``$MINIGRAD_SCREENSHOTS`` (default: the test's temporary directory).

Skipped, with the reason, when Chromium or MkDocs is missing; `.ci/run` installs Chromium.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser

PAGES = {  # page -> the heading a reader must see
    "index.html": "minigrad",
    "course/01-tensors-and-graphs.html": "1. Tensors, ops and the graph",
    "course/08-transformer.html": "8. The transformer end to end",
}


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if path:
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevTools:
    """A minimal websocket client (RFC 6455) speaking the DevTools protocol to one page."""

    def __init__(self, ws_url: str) -> None:
        rest = ws_url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(4096)
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.next_id = 0
        self.events: list[dict] = []

    def _recv_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("DevTools websocket closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _recv_message(self) -> dict:
        payload = b""
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack(">H", self._recv_exact(2))
            elif n == 127:
                (n,) = struct.unpack(">Q", self._recv_exact(8))
            payload += self._recv_exact(n)
            if b0 & 0x80:  # FIN
                return json.loads(payload)

    def send(self, method: str, **params: object) -> dict:
        self.next_id += 1
        data = json.dumps({"id": self.next_id, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        n = len(data)
        header = bytes([0x81]) + (
            bytes([0x80 | n])
            if n < 126
            else bytes([0x80 | 126]) + struct.pack(">H", n)
            if n < 65536
            else bytes([0x80 | 127]) + struct.pack(">Q", n)
        )
        self.sock.sendall(header + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(data)))
        while True:
            msg = self._recv_message()
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._recv_message())
        raise TimeoutError(method)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if _chromium() is None:
        pytest.skip("no Chromium found (apt-get install chromium); .ci/run installs it")
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).with_name("mkdocs"))
    if not Path(mkdocs).exists():
        pytest.skip('mkdocs is not installed (pip install -e ".[docs]")')
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    return out


@pytest.fixture(scope="module")
def browser(site: Path, tmp_path_factory: pytest.TempPathFactory):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # no request log on stderr
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = _free_port()
    profile = tmp_path_factory.mktemp("chromium-profile")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--remote-debugging-port={port}",
        "--window-size=1280,900", "about:blank",
    ]  # fmt: skip
    proc = subprocess.Popen(
        [_chromium(), *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        ws_url = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    targets = [t for t in json.load(r) if t.get("type") == "page"]
                if targets:
                    ws_url = targets[0]["webSocketDebuggerUrl"]
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert ws_url, "Chromium started but its DevTools endpoint never answered"
        tools = DevTools(ws_url)
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.send(f"{domain}.enable")
        yield tools, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.shutdown()


CHECK_PAGE = """(() => {
  const h1 = document.querySelector("article h1, .md-content h1");
  const imgs = [...document.querySelectorAll("article img")].map(i => ({
    src: i.getAttribute("src"), complete: i.complete, naturalWidth: i.naturalWidth}));
  const text = document.querySelector("article").innerText;
  const resources = performance.getEntriesByType("resource").map(r => r.name);
  return JSON.stringify({h1: h1 ? h1.innerText.replace(/\\s*¶$/, "") : null, imgs, resources,
    rawMath: /\\$\\$|\\\\\\(|\\\\frac|\\\\sum|\\^\\{|_\\{/.test(text), codeBlocks: document.querySelectorAll(
    "article pre code").length});
})()"""


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_in_chromium(browser, page: str, tmp_path: Path) -> None:
    tools, base = browser
    tools.events.clear()
    tools.send("Page.navigate", url=base + page)
    tools.wait_for("Page.loadEventFired")
    time.sleep(0.3)  # late console messages
    result = tools.send("Runtime.evaluate", expression=CHECK_PAGE, returnByValue=True)
    info = json.loads(result["result"]["value"])
    shots = Path(os.environ.get("MINIGRAD_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    png = tools.send("Page.captureScreenshot", format="png")["data"]
    name = page.replace("/", "_").replace(".html", "")
    (shots / f"{name}.png").write_bytes(base64.b64decode(png))
    if info["imgs"]:  # and one at the first figure, as a reader scrolls to it
        tools.send("Runtime.evaluate", expression="document.querySelector('article img')"
                   ".scrollIntoView({block: 'center'})")  # fmt: skip
        time.sleep(0.2)
        png = tools.send("Page.captureScreenshot", format="png")["data"]
        (shots / f"{name}-figure.png").write_bytes(base64.b64decode(png))

    assert info["h1"] == PAGES[page], f"{page}: heading {info['h1']!r}"
    errors = [
        ev["params"]
        for ev in tools.events
        if ev.get("method") == "Runtime.exceptionThrown"
        or (ev.get("method") == "Runtime.consoleAPICalled" and ev["params"]["type"] == "error")
        or (ev.get("method") == "Log.entryAdded" and ev["params"]["entry"]["level"] == "error")
        or ev.get("method") == "Network.loadingFailed"
    ]
    assert not errors, f"{page}: console errors or failed loads: {errors}"
    foreign = [r for r in info["resources"] if not r.startswith(base)]
    assert not foreign, f"{page}: requests to other hosts (the site must work offline): {foreign}"
    assert not info["rawMath"], f"{page}: math markup left unrendered"
    broken = [i for i in info["imgs"] if not i["complete"] or i["naturalWidth"] == 0]
    assert not broken, f"{page}: figures that did not load: {broken}"
    if page.startswith("course/"):
        assert info["imgs"], f"{page}: the chapter's figures are missing"
        assert info["codeBlocks"] >= 3, f"{page}: code blocks missing"
