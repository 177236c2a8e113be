#!/usr/bin/env python3
"""Prove the README's quick start from a bare clone: `make run` serves, and a demo post signs in.

Run by .ci/run (standard library only). It starts `make run PORT=<port>` in CLONE (a clone of
HEAD with nothing beside it) as a process group of its own, waits for the home page, signs in
as a demo station post through the CUG step (the code is read from the console's `[sms]` line),
the officer step (PNO and the demo password that `make run` printed), opens a village roster,
and stops the server by its process group. Exit 0 on success; otherwise the reason and the
server's last output lines.
"""
from __future__ import annotations

import argparse
import html
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

STATION_POST = "SHO Baraut"  # a demo post of a police station: it sees its villages' rosters
START_TIMEOUT = 600  # seconds: the first `make run` installs the packages


class Server:
    """`make run` in the clone, its output collected line by line."""

    def __init__(self, clone: str, port: int):
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["make", "run", f"PORT={port}"], cwd=clone, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float, start: int = 0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None:
                raise SystemExit(f"quickstart: `make run` exited with {self.process.returncode}")
            time.sleep(0.2)
        raise SystemExit(f"quickstart: no line matching {pattern!r} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # make and the server it started
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Browser:
    """Cookies, and the CSRF token of the last form read."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.geturl(), response.read().decode("utf-8")

    def post(self, path: str, fields: dict, page: str) -> tuple[str, str]:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        data = dict(fields, csrf_token=token.group(1) if token else "")
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(self.base + path, data=body, timeout=30) as response:
            return response.geturl(), response.read().decode("utf-8")


def wait_for_home(browser: Browser, server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"quickstart: `make run` exited with {server.process.returncode}")
        try:
            url, _page = browser.get("/")
            if "/auth/sign-in" in url:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise SystemExit(f"quickstart: the home page did not answer within {START_TIMEOUT} s")


def sign_in_and_open_a_roster(browser: Browser, server: Server) -> str:
    password = server.wait_for(r"demo password: (\S+)", 5).group(1)
    post = server.wait_for(rf"^\s+(\d{{10}})\s+{re.escape(STATION_POST)}\s+\S+\s+(\d+)", 5)
    cug, pno = post.group(1), post.group(2)

    _url, page = browser.get("/auth/sign-in")
    already = len(server.lines)
    url, page = browser.post("/auth/sign-in", {"cug": cug}, page)
    if "/auth/code" not in url:
        raise SystemExit(f"quickstart: the CUG step went to {url}")
    code = server.wait_for(rf"\[sms\] to=\+91{cug} .*?([0-9]{{6}})", 30, start=already).group(1)
    url, page = browser.post("/auth/code", {"code": code}, page)
    if "/auth/officer" not in url:
        raise SystemExit(f"quickstart: the code step went to {url}")
    url, page = browser.post("/auth/officer", {"pno": pno, "password": password}, page)
    if "/auth/" in url:
        raise SystemExit(f"quickstart: the officer step stayed on {url}")

    _url, page = browser.get("/search?q=" + urllib.parse.quote("Baraut"))
    place = re.search(r'href="(/roster/places/[0-9]+)"', page)
    if place is None:
        raise SystemExit("quickstart: the search for Baraut lists no village roster")
    _url, page = browser.get(place.group(1))
    contacts = len(re.findall(r'href="tel:\+91[0-9]{10}"', page))
    if not contacts:
        raise SystemExit(f"quickstart: the roster {place.group(1)} shows no number to call")
    title = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    name = html.unescape(re.sub(r"<[^>]+>|\s+", " ", title.group(1))).strip() if title else "?"
    return f"signed in as {STATION_POST} ({cug}); roster of {name}: {contacts} numbers to call"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clone", help="a clone of the repository with nothing beside it")
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args()
    server = Server(args.clone, args.port)
    try:
        browser = Browser(f"http://127.0.0.1:{args.port}")
        wait_for_home(browser, server)
        print("quickstart: " + sign_in_and_open_a_roster(browser, server))
        return 0
    except (SystemExit, Exception) as error:
        print(f"quickstart: FAILED: {error}", file=sys.stderr)
        print("\n".join(server.lines[-40:]), file=sys.stderr)
        return 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
