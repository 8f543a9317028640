"""Debian's Firefox ESR driven over WebDriver BiDi, the protocol Firefox's own remote agent speaks
(`--remote-debugging-port`), so no geckodriver is needed (Debian does not package it). Only what the
portal's tests use: navigate, evaluate a script, type keys, capture a screenshot."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import websocket

from tests.support.net import free_port

BINARY = shutil.which("firefox-esr") or shutil.which("firefox") or "firefox-esr"
BOUND_SECONDS = 120  # a bound for a broken run: each wait ends as soon as its condition holds
# Collects the page's Content-Security-Policy violations before any of its scripts runs.
_VIOLATIONS = ("() => { window.__violations = []; document.addEventListener('securitypolicyviolation', "
               "(e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI)); }")


class Firefox:
    def __init__(self, profile: Path) -> None:
        port = free_port()
        profile.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [BINARY, "--headless", "--no-remote", "--profile", str(profile), f"--remote-debugging-port={port}",
             "--window-size=1280,1000", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._ids = itertools.count(1)
        self.socket = websocket.create_connection(f"ws://127.0.0.1:{_listening(port, self.process)}/session",
                                                  suppress_origin=True, timeout=BOUND_SECONDS)
        self.command("session.new", {"capabilities": {}})
        self.context = self.command("browsingContext.getTree", {})["contexts"][0]["context"]
        self.command("script.addPreloadScript", {"functionDeclaration": _VIOLATIONS})

    def command(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Sends a command and returns its result; events in between are skipped."""
        command_id = next(self._ids)
        self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") != command_id:
                continue
            if message.get("type") == "error":
                raise RuntimeError(f"{method}: {message.get('error')}: {message.get('message')}")
            return message["result"]

    def navigate(self, url: str) -> None:
        self.command("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def evaluate(self, expression: str) -> Any:
        """The expression's value (awaited), as JSON: the page's structured values, not remote handles."""
        result = self.command("script.evaluate", {
            "expression": f"(async () => JSON.stringify(await ({expression})))()", "awaitPromise": True,
            "target": {"context": self.context}, "resultOwnership": "none"})
        if result["type"] == "exception":
            raise RuntimeError(result["exceptionDetails"]["text"])
        value = result["result"].get("value")
        return None if value is None else json.loads(value)

    def wait_for(self, expression: str, what: str) -> Any:
        deadline = time.monotonic() + BOUND_SECONDS
        while not (value := self.evaluate(expression)):
            assert time.monotonic() < deadline, f"never saw: {what}"
            time.sleep(0.1)
        return value

    def type(self, selector: str, text: str) -> None:
        """Focuses the field and types, key by key, as a user would ("\\ue007" is Enter, "\\ue004" Tab)."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        keys = [action for char in text for action in ({"type": "keyDown", "value": char},
                                                        {"type": "keyUp", "value": char})]
        self.command("input.performActions", {"context": self.context, "actions": [
            {"type": "key", "id": "keyboard", "actions": keys}]})

    def screenshot(self, path: Path) -> None:
        data = self.command("browsingContext.captureScreenshot", {"context": self.context})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def violations(self) -> list[str]:
        return self.evaluate("window.__violations || []")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, websocket.WebSocketException, OSError):
            self.command("browser.close", {})
        self.socket.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _listening(port: int, process: subprocess.Popen[bytes]) -> int:
    """Waits for the remote agent to accept connections (Firefox starts in a few seconds)."""
    deadline = time.monotonic() + BOUND_SECONDS
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"Firefox did not open its remote agent on port {port}") from None
            time.sleep(0.1)
