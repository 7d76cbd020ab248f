"""The documentation drift check: what the man pages, README.md, docs/ and README.Debian name
exists, and what exists is documented.

- Endpoints: every "METHOD /path" of a man page is answered by a real server with that method
  (neither 404 "Endpoint not found" nor 405), every URL of a curl line in the Markdown documents
  and README.Debian reaches an endpoint, and every row of fcgi-app/router.c is in nextid-api(7)
  with each of its methods.
- Configuration keys: every key nextid.conf(5) lists, with its documented default, loads in the
  real config parser (through nextidctl), as does every "key = value" the documents write; every
  key of www-conf/nextid.conf and of common/config.c is in nextid.conf(5).
- nextidctl: every command the documents run, and every command of nextidctl(1), answers its
  --help; every command of `nextidctl --help` is in nextidctl(1).
- Paths: every file of the repository that README.md and docs/ name or link exists; every
  absolute path of a man page or README.Debian is installed by `make install` or the Debian
  packaging, made by one of its scripts, or a system path of this machine.
- The package: `make install` (what the package build runs) installs every man page of
  packaging/man/, and README.Debian is where dh_installdocs takes it from.
"""

import glob
import os
import re
import subprocess
import tempfile

import pytest

from nextid_server import BUILD, CTL, ROOT

TOKEN = "docs-drift-T0ken-0123456789"
AUTH = {"Authorization": "Bearer " + TOKEN}
MAN_PAGES = sorted(glob.glob(os.path.join(ROOT, "packaging", "man", "*.[0-9]")))
MARKDOWN = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
README_DEBIAN = os.path.join(ROOT, "packaging", "debian", "README.Debian")
API_PAGE = os.path.join(ROOT, "packaging", "man", "nextid-api.7")
CONF_PAGE = os.path.join(ROOT, "packaging", "man", "nextid.conf.5")
CTL_PAGE = os.path.join(ROOT, "packaging", "man", "nextidctl.1")
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD")
# A value for each placeholder nextid.conf(5) shows for a key without a default.
PLACEHOLDER_VALUES = {"TOKEN": "0123456789abcdef0123", "N": "2", "FILE": "/etc/nextid/tls.pem",
                      "HOST:PORT": "127.0.0.1:7001", "PEERS": "127.0.0.1:7002 127.0.0.1:7003"}
RUN_TIMEOUT_S = 60


# Reading the documents ---------------------------------------------------------------------

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def roff_text(source):
    """A man page's source as plain text: font changes, escapes and requests' dots removed,
    line by line (a request's arguments stay on its line)."""
    # A line ending in \c continues on the next (".B GET /next/\c" then ".I name").
    text = re.sub(r"\\c\n(\.[A-Z]+ )?", "", source)
    text = re.sub(r"\\f[BIRP]|\\f\(..|\\&", "", text)
    for escape, char in (("\\-", "-"), ("\\(aq", "'"), ("\\(dq", '"'), ("\\(lq", '"'),
                         ("\\(rq", '"'), ("\\e", "\\"), ("\\ ", " ")):
        text = text.replace(escape, char)
    lines = []
    for line in text.split("\n"):
        if line.startswith(".\\\""):
            continue
        m = re.match(r"\.(B|I|BI|IB|BR|RB|IR|RI|TP|TQ|SH|SS|PP|nf|fi|br|TH|HP|IP)\b ?(.*)", line)
        if m:
            args = m.group(2)
            # .BR a b: alternating fonts join their arguments without spaces.
            if m.group(1) in ("BI", "IB", "BR", "RB", "IR", "RI"):
                args = "".join(a.strip('"') for a in re.findall(r'"[^"]*"|\S+', args))
            else:
                args = args.strip('"') if args.count('"') == 2 and args.startswith('"') else args
            line = args
        lines.append(line)
    return "\n".join(lines)


def markdown_code(text):
    """The code of a Markdown document: fenced blocks, then `spans`."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))
    return blocks + spans


def readme_debian_code(text):
    """README.Debian's code: lines indented four spaces, and `spans`."""
    return [line for line in text.split("\n") if line.startswith("    ")] + \
        re.findall(r"`([^`\n]+)`", text)


def man_code(source):
    """A man page's bold text and its .nf blocks (where commands and paths are written)."""
    pieces = re.findall(r"\\fB(.*?)\\f[RP]", source)
    pieces += [m.group(2) for m in re.finditer(r"^\.(B|BR|BI)\s+(.*)$", source, re.M)]
    pieces += re.findall(r"^\.nf\n(.*?)^\.fi", source, re.S | re.M)
    return [roff_text(p) for p in pieces]


def all_code():
    """(document, piece of code) for every document."""
    out = []
    for path in MAN_PAGES:
        out += [(path, p) for p in man_code(read(path))]
    for path in MARKDOWN:
        out += [(path, p) for p in markdown_code(read(path))]
    out += [(README_DEBIAN, p) for p in readme_debian_code(read(README_DEBIAN))]
    return out


def man_endpoints(path):
    """(methods, path) for each "METHOD[, METHOD] /path" a man page names."""
    found = []
    pattern = re.compile(r"\b((?:%s)(?:, (?:%s))*) (/[^\s\[?\"']*)" % ("|".join(METHODS),
                                                                      "|".join(METHODS)))
    for m in pattern.finditer(roff_text(read(path))):
        found.append((tuple(m.group(1).split(", ")), m.group(2).rstrip(".,;:)")))
    return found


# Endpoints ---------------------------------------------------------------------------------

def no_route(reply):
    try:
        return reply.status == 404 and reply.json().get("error") == "Endpoint not found"
    except ValueError:
        return False


def test_every_endpoint_the_man_pages_name_answers_with_its_methods(nextid):
    srv = nextid(config={"admin_token": TOKEN})
    endpoints = [e for page in MAN_PAGES for e in man_endpoints(page)]
    assert len({p for _, p in endpoints}) >= 20, endpoints
    for methods, path in endpoints:
        for method in methods:
            body = b"{}" if method in ("POST", "PUT") else None
            reply = srv.request(method, path, AUTH, body)
            assert not no_route(reply) and reply.status != 405, \
                "%s %s, as the man pages name it: %s" % (method, path, reply)


def curl_urls():
    found = []
    for path in MARKDOWN + [README_DEBIAN]:
        for line in re.findall(r"^.*\bcurl\b.*$", read(path), re.M):
            for m in re.finditer(r"https?://127\.0\.0\.1(?::\d+)?(/[^\s'\"`;]*)", line):
                found.append((os.path.relpath(path, ROOT), m.group(1).split("?")[0]))
    return found


def test_every_url_of_the_documents_curl_sessions_reaches_an_endpoint(nextid):
    srv = nextid(config={"admin_token": TOKEN})
    urls = curl_urls()
    assert len(urls) >= 20, urls
    for document, path in urls:
        reply = srv.request("GET", path, AUTH)
        assert not no_route(reply), "%s names %s: %s" % (document, path, reply)


def router_rows():
    source = read(os.path.join(ROOT, "fcgi-app", "router.c"))
    table = source[source.index("routes[] = {"):]
    table = table[:table.index("};")]
    rows = []
    for m in re.finditer(r"\{\s*((?:M_[A-Z]+\s*\|?\s*)+),\s*\"([^\"]+)\"", table):
        rows.append((set(re.findall(r"M_([A-Z]+)", m.group(1))), m.group(2)))
    assert len(rows) >= 20, rows
    return rows


@pytest.mark.no_web_server
def test_every_route_is_in_nextid_api_7_with_each_of_its_methods():
    documented = man_endpoints(API_PAGE)
    for methods, pattern in router_rows():
        regex = re.compile("".join("[^/]+" if part == "*" else re.escape(part)
                                   for part in re.split(r"(\*)", pattern)) + r"\Z")
        seen = set()
        for doc_methods, path in documented:
            if regex.match(path):
                seen |= set(doc_methods)
        assert methods <= seen, "%s %s: nextid-api(7) documents %s" % (
            "|".join(sorted(methods)), pattern, "|".join(sorted(seen)) or "nothing")


# Configuration keys ------------------------------------------------------------------------

def documented_keys():
    """(key, value) for each key nextid.conf(5) lists: its default, or a value for its
    placeholder."""
    keys = []
    for m in re.finditer(r'^\.T[PQ]\n\.BI? "?([a-z_]+) = "? ?(\S*)$', read(CONF_PAGE), re.M):
        key, value = m.group(1), m.group(2).strip('"')
        keys.append((key, PLACEHOLDER_VALUES.get(value, value)))
    return keys


def load_config(lines, tmp):
    """Load a config of these lines with nextidctl; returns its one error line ("" when the
    config loaded: the command then fails further on, for want of a store)."""
    path = os.path.join(tmp, "docs.conf")
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    proc = subprocess.run([CTL, "--config", path, "list"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert proc.returncode != 0  # no store here: what matters is which error
    return proc.stderr.strip() if proc.stderr.startswith("nextidctl: " + path) else ""


@pytest.mark.no_web_server
def test_every_key_nextid_conf_5_lists_loads_with_its_documented_value():
    keys = documented_keys()
    names = [k for k, _ in keys]
    assert len(names) == len(set(names)) and len(names) >= 20, names
    with tempfile.TemporaryDirectory(prefix="nextid-docs-") as tmp:
        lines = ["%s = %s" % (k, os.path.join(tmp, "data") if k == "data_dir" else v)
                 for k, v in keys]
        assert load_config(lines, tmp) == "", "\n".join(lines)


@pytest.mark.no_web_server
def test_every_key_that_exists_is_in_nextid_conf_5():
    documented = {k for k, _ in documented_keys()}
    sample = set(re.findall(r"^# ([a-z_]+) =", read(os.path.join(ROOT, "www-conf", "nextid.conf")),
                            re.M))
    source = read(os.path.join(ROOT, "common", "config.c"))
    table = source[source.index("key_table[] = {"):]
    table = table[:table.index("};")]
    parsed = set(re.findall(r'\{ "([a-z_]+)", KEY_', table)) | \
        set(re.findall(r"ROW_(?:NUM|WORD)\(([a-z_]+),", table))
    assert len(parsed) >= 20 and sample <= parsed, (sample, parsed)
    assert parsed - documented == set(), "keys missing from nextid.conf(5)"


@pytest.mark.no_web_server
def test_every_key_the_documents_set_is_a_key():
    settings = set()
    for document, code in all_code():
        # A key with an underscore anywhere; a one-word key (workers = 4) on a line of its own
        # in a block of code (a span such as `found = false` may be a field of a message).
        for m in re.finditer(r"(?:^|[\s`(])([a-z]+_[a-z_]*[a-z]) = (\S+)|^([a-z]+) = (\S+)$",
                             code, re.M):
            if not m.group(1) and "\n" not in code:
                continue
            key, value = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            settings.add((os.path.relpath(document, ROOT), key, value))
    assert len({k for _, k, _ in settings}) >= 10, settings
    with tempfile.TemporaryDirectory(prefix="nextid-docs-") as tmp:
        for document, key, value in sorted(settings):
            error = load_config(["%s = %s" % (key, value)], tmp)
            assert "unknown key" not in error, "%s sets %s: %s" % (document, key, error)


# nextidctl ---------------------------------------------------------------------------------

def ctl_help(*args):
    return subprocess.run([CTL] + list(args) + ["--help"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


@pytest.mark.no_web_server
def test_every_nextidctl_command_the_documents_run_exists():
    commands = set()
    pattern = re.compile(r"nextidctl(?: --config \S+)? ([a-z][a-z-]*)(?: ([a-z]+))?")
    for document, code in all_code():
        for m in pattern.finditer(code):
            sub = m.group(2) if m.group(1) == "prefix" else None
            commands.add((os.path.relpath(document, ROOT), m.group(1), sub))
    assert len({c for _, c, _ in commands}) >= 10, commands
    for document, command, sub in sorted(commands, key=lambda c: (c[0], c[1], c[2] or "")):
        args = [command] + ([sub] if sub else [])
        proc = ctl_help(*args)
        assert proc.returncode == 0 and proc.stdout.startswith(
            "usage: nextidctl [--config FILE] " + " ".join(args)), \
            "%s runs nextidctl %s: %r %r" % (document, " ".join(args), proc.stdout, proc.stderr)


@pytest.mark.no_web_server
def test_nextidctl_1_lists_exactly_the_commands_of_its_help():
    page = read(CTL_PAGE)
    section = page[page.index(".SH COMMANDS"):page.index(".SH OPTIONS")]
    entries = set()
    for m in re.finditer(r"^\.TP\n\.B[IR]?\s+\"?([a-z-]+)(?: ([a-z]+))?", section, re.M):
        entries.add((m.group(1), m.group(2) if m.group(1) == "prefix" else None))
    helped = set()
    usage = ctl_help().stdout
    # A command's first line: its name, then nothing, an argument (NAME, [--flag], -e) or a
    # subcommand; the lines that describe it are sentences.
    for m in re.finditer(r"^  ([a-z][a-z-]*)(?: ([a-z]+))?(?=$| [A-Z\[-])", usage, re.M):
        helped.add((m.group(1), m.group(2) if m.group(1) == "prefix" else None))
    assert entries == helped, "nextidctl(1): %s; nextidctl --help: %s" % (sorted(entries,
                                                                              key=str),
                                                                       sorted(helped, key=str))
    for command, sub in entries:
        assert ctl_help(*([command] + ([sub] if sub else []))).returncode == 0


# Paths -------------------------------------------------------------------------------------

def repo_files():
    proc = subprocess.run(["git", "-C", ROOT, "ls-files", "--cached", "--others",
                           "--exclude-standard"], capture_output=True, text=True, check=True)
    return [f for f in proc.stdout.split("\n") if f and os.path.exists(os.path.join(ROOT, f))]


TOP = None


def repo_path_candidates(document):
    """Repository paths a Markdown document names: `spans` that start with a top-level entry of
    the repository, and link targets."""
    global TOP
    if TOP is None:
        TOP = {f.split("/")[0] for f in repo_files()}
    text = read(document)
    found = set()
    for span in re.findall(r"`([^`\n]+)`", text):
        for word in re.split(r"[\s,]+", span):
            first = word.split("/")[0]
            if "/" in word and first in TOP and not re.search(r"[<>*$]", word):
                found.add((word, ROOT))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if not re.match(r"[a-z]+:|#", target):
            found.add((target.split("#")[0], os.path.dirname(document)))
    return found


@pytest.mark.no_web_server
def test_every_repository_path_the_markdown_documents_name_exists():
    files = repo_files()
    names = {os.path.basename(f) for f in files}
    checked = 0
    for document in MARKDOWN:
        for path, base in sorted(repo_path_candidates(document)):
            full = os.path.normpath(os.path.join(base, path))
            assert os.path.exists(full), "%s names %s" % (os.path.relpath(document, ROOT), path)
            checked += 1
        # The code tour's bare file names (`pool.c`, `store_prefix.h`) exist somewhere.
        for name in re.findall(r"`([a-z_0-9.-]+\.(?:c|h|py|proto|in|lua))`", read(document)):
            assert name in names, "%s names %s" % (os.path.relpath(document, ROOT), name)
            checked += 1
    assert checked >= 50


@pytest.fixture(scope="module")
def installed():
    """`make install` into a temporary DESTDIR, as the package build runs it; yields the set of
    absolute paths it installs (directories included)."""
    with tempfile.TemporaryDirectory(prefix="nextid-docs-install-") as dest:
        proc = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "B=" + BUILD,
                               "install", "DESTDIR=" + dest, "PREFIX=/usr"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        paths = set()
        for top, dirs, files in os.walk(dest):
            for name in dirs + files:
                paths.add("/" + os.path.relpath(os.path.join(top, name), dest))
        yield paths


def packaged_paths():
    """What debhelper installs from packaging/debian/ beside `make install`."""
    deb = os.path.join(ROOT, "packaging", "debian")
    paths = {"/usr/share/doc/nextid/README.Debian", "/usr/share/doc/nextid/examples",
             "/usr/share/doc/nextid/copyright", "/etc/logrotate.d/nextid"}
    for unit in glob.glob(os.path.join(deb, "nextid.*service")) + \
            glob.glob(os.path.join(deb, "nextid.socket")):
        name = os.path.basename(unit)
        name = name[len("nextid."):] if name.count(".") == 2 else name
        paths.add("/lib/systemd/system/" + name)
    for init in glob.glob(os.path.join(deb, "nextid*.init")):
        name = os.path.basename(init)[:-len(".init")]
        paths.add("/etc/init.d/" + (name[len("nextid."):] if "." in name else name))
    for line in read(os.path.join(deb, "nextid.examples")).split():
        paths.add("/usr/share/doc/nextid/examples/" + os.path.basename(line))
    return paths


@pytest.mark.no_web_server
def test_every_absolute_path_of_the_man_pages_and_readme_debian_is_real(installed):
    known = installed | packaged_paths()
    scripts = "".join(read(f) for f in glob.glob(os.path.join(ROOT, "packaging", "debian", "*"))
                      if os.path.isfile(f))
    texts = [(p, roff_text(read(p))) for p in MAN_PAGES] + [(README_DEBIAN, read(README_DEBIAN))]
    checked = 0
    for document, text in texts:
        for m in re.finditer(r"(?<![\w.:/])(/(?:etc|usr|var|run|lib)/[A-Za-z0-9_./+-]*[A-Za-z0-9_])",
                             text):
            path = m.group(1)
            ok = (path in known or any(k.startswith(path + "/") for k in known) or
                  path in scripts or os.path.exists(path))
            assert ok, "%s names %s, which nothing installs or makes" % (
                os.path.relpath(document, ROOT), path)
            checked += 1
    assert checked >= 30


# The package -------------------------------------------------------------------------------

@pytest.mark.no_web_server
def test_make_install_installs_every_man_page(installed):
    assert len(MAN_PAGES) >= 7
    for page in MAN_PAGES:
        name = os.path.basename(page)
        section = name.rsplit(".", 1)[1]
        assert "/usr/share/man/man%s/%s" % (section, name) in installed, name
    for program in ("/usr/sbin/nextid-fcgi", "/usr/bin/nextidctl", "/usr/sbin/nextid-sequencer",
                    "/usr/sbin/nextid-grpc"):
        assert program in installed
    # dh_installdocs installs debian/README.Debian by itself; the package's tree is
    # packaging/debian/ (tests/deb/build), and tests/deb/check finds both in the .deb.
    assert read(README_DEBIAN).startswith("nextid for Debian")
