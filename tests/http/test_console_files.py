"""The web console's files at /console/, served by the web server itself through the dev configs
(lighttpd/nextid-dev.conf.in, and apache/nextid-dev.conf.in with the package's snippet
apache/nextid.conf): status, content type and bytes, behind both servers whatever
NEXTID_WEB_SERVER says. What the console does is tests/browser's part."""

import os
import re

import pytest

import nextid_server

FILES = {
    "index.html": "text/html; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
    "sequences.js": "text/javascript; charset=utf-8",
    "prefixes.js": "text/javascript; charset=utf-8",
    "pool.js": "text/javascript; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


# The lighttpd run (make check-http) serves the console behind both servers already; the Apache
# run (make check-http-apache) would only repeat it.
@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.skipif(
    nextid_server.WEB_SERVER != "lighttpd", reason="the lighttpd run serves it behind both"))
    for name in nextid_server.WEB_SERVERS])
def front(request):
    srv = nextid_server.NextidServer(web_server=request.param)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        srv.cleanup()


def read(name):
    with open(os.path.join(nextid_server.CONSOLE_DIR, name), "rb") as f:
        return f.read()


@pytest.mark.no_web_server
def test_every_console_file_is_listed_here():
    assert sorted(os.listdir(nextid_server.CONSOLE_DIR)) == sorted(FILES)


@pytest.mark.no_web_server
def test_the_page_names_only_its_own_files():
    page = read("index.html").decode("utf-8")
    named = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert sorted(named) == sorted(n for n in FILES if n != "index.html")
    # No address of another host anywhere (the SVG namespace is a name, not a fetch).
    for name in FILES:
        text = read(name).decode("utf-8")
        assert re.findall(r"https?://(?!www\.w3\.org/2000/svg)", text) == [], name


def test_the_web_server_serves_the_console(front):
    for name, ctype in FILES.items():
        reply = front.get("/console/" + name)
        assert (reply.status, reply.headers.get("content-type")) == (200, ctype), str(reply)
        assert reply.body == read(name), name
    index = front.get("/console/")
    assert (index.status, index.headers.get("content-type"), index.body) == \
        (200, "text/html; charset=utf-8", read("index.html"))
    bare = front.get("/console")
    assert bare.status in (301, 302) and bare.headers["location"].endswith("/console/"), str(bare)
    # A file that is not there is the web server's 404, not nextid's JSON; nextid's paths beside
    # the console stay nextid's.
    missing = front.get("/console/missing.js")
    assert missing.status == 404 and "application/json" not in missing.headers["content-type"]
    assert front.get("/consoles").status == 404
    assert front.get("/consoles").headers["content-type"] == "application/json"
    assert front.get("/next/beside-the-console").status == 200
