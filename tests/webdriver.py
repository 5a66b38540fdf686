"""A minimal W3C WebDriver client for chromedriver (Debian's ``chromium-driver``): enough to open a
page in headless Chromium, read its console, find elements and take a screenshot, with no
third-party package."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element identifier


def chromedriver() -> str | None:
    return shutil.which("chromedriver")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Browser:
    """Headless Chromium driven through chromedriver, closed on exit."""

    def __init__(self, width: int = 420, height: int = 760):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.driver = subprocess.Popen([chromedriver(), f"--port={port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                self._request("GET", "/status")
                break
            if time.monotonic() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.2)
        caps = {"browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"},
                "goog:chromeOptions": {"binary": chromium(), "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    f"--window-size={width},{height}"]}}
        session = self._request("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session = f"/session/{session['sessionId']}"

    def _request(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"webdriver {method} {path}: {err.read().decode()}") from None

    def open(self, url: str) -> None:
        self._request("POST", f"{self.session}/url", {"url": url})

    def script(self, source: str):
        return self._request("POST", f"{self.session}/execute/sync", {"script": source, "args": []})

    def console(self) -> list[dict]:
        """The browser console's entries since the last call (level, message)."""
        return self._request("POST", f"{self.session}/se/log", {"type": "browser"})

    def elements(self, css: str) -> list[str]:
        found = self._request("POST", f"{self.session}/elements", {"using": "css selector", "value": css})
        return [e[ELEMENT] for e in found]

    def text(self, element: str) -> str:
        return self._request("GET", f"{self.session}/element/{element}/text")

    def displayed(self, element: str) -> bool:
        return self._request("GET", f"{self.session}/element/{element}/displayed")

    def rect(self, element: str) -> dict:
        return self._request("GET", f"{self.session}/element/{element}/rect")

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self._request("GET", f"{self.session}/screenshot")))
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._request("DELETE", self.session)
        self.driver.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.driver.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run_before_every_page(browser: Browser, source: str) -> None:
    """Evaluate ``source`` in every document before its own scripts (Chrome DevTools Protocol)."""
    browser._request("POST", f"{browser.session}/goog/cdp/execute",
                     {"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": source}})
