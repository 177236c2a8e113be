"""Save the benchmark's pages as the app renders them, or compare them with a saved set.

A speed change must leave every page byte-for-byte as it was. Run it once before the change
and once after, on the same data set (the ``bench/web.py`` database), with the same posts
signed in as the benchmark signs them in:

    .venv/bin/python -m bench.page_snapshots save  DIR sqlite:////path/to/bench.sqlite
    .venv/bin/python -m bench.page_snapshots check DIR sqlite:////path/to/bench.sqlite

Each page is requested in process (the Flask test client, production settings) in English and
in Hindi. The only parts that differ from one sign-in to the next, the CSRF tokens, are
replaced by ``X``; everything else must match exactly. ``check`` prints each page that differs
with the first differing lines and exits 1. ``CPLAN_BENCH_PAGES`` chooses pages as for the
benchmark.
"""

import difflib
import os
import re
import secrets
import sys
from pathlib import Path

from bench import web

_CSRF = re.compile(r'(name="csrf_token"[^>]*?value=")[^"]*')


def render_pages(database_url: str) -> dict[str, str]:
    """{"<page>-<language>": the page's HTML with its CSRF tokens blanked}."""
    variables = web.app_settings(database_url, secrets.token_urlsafe(48))
    app = web.in_process_app(variables)
    wanted = [key for key in os.environ.get("CPLAN_BENCH_PAGES", "").split(",") if key]
    pages = [page for page in web.page_list() if not wanted or page.key in wanted]
    web.prepare_pages(app, pages, profile=False)
    client = app.test_client(use_cookies=False)
    serializer = app.session_interface.get_signing_serializer(app)
    rendered = {}
    for page in pages:
        if not page.path:
            continue
        for language in ("en", "hi"):
            headers = web.header_dict(page.cookie)
            if page.cookie.partition("=")[2]:
                # The language is the session's choice: set it as the language switch does,
                # keeping the sign-in (an API page's device token has no session).
                name, _, value = page.cookie.partition("=")
                session = {**serializer.loads(value), "lang": language}
                headers = web.header_dict(f"{name}={serializer.dumps(session)}")
            headers["Accept-Language"] = language
            body = client.get(page.path, headers=headers).get_data(as_text=True)
            rendered[f"{page.key}-{language}"] = _CSRF.sub(r"\1X", body)
    return rendered


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("save", "check"):
        print(__doc__)
        return 2
    action, folder, database_url = argv[0], Path(argv[1]), argv[2]
    rendered = render_pages(database_url)
    if action == "save":
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in rendered.items():
            (folder / f"{name}.html").write_text(body)
        print(f"saved {len(rendered)} pages into {folder}")
        return 0
    differing = 0
    for name, body in rendered.items():
        saved = folder / f"{name}.html"
        if not saved.exists():
            print(f"{name}: not saved before")
            differing += 1
            continue
        if saved.read_text() != body:
            differing += 1
            print(f"{name}: DIFFERS")
            diff = difflib.unified_diff(
                saved.read_text().splitlines(), body.splitlines(), "before", "now", lineterm=""
            )
            for line in list(diff)[:20]:
                print("   ", line)
        else:
            print(f"{name}: same")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
