"""Start the real nextid behind a real web server for one test, talk HTTP to it, and stop it.

A NextidServer owns a temporary directory (data, configs, socket, logs), a free port on
127.0.0.1, and the processes it started: the web server, and in socket mode the nextid-fcgi
master. It signals only pids it recorded. conftest.py turns it into fixtures; the checks a test
makes stay in the test files.

The web server is lighttpd, or Apache with mod_proxy_fcgi when NEXTID_WEB_SERVER=apache (the
whole suite runs behind either: `make check-http`, `make check-http-apache`).

Socket mode (default): the harness starts `nextid-fcgi --socket` itself, then the web server.
Spawned mode (lighttpd only): lighttpd starts the master through "bin-path" (`make run` holds the
socket and starts the master itself instead: tests/http/serve says why).
Apache has no equivalent (mod_proxy_fcgi starts no backend), so those tests skip behind it.
"""

import collections
import http.client
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# NEXTID_BUILD_DIR lets the same tests run against another build (a sanitizer build, say).
BUILD = os.path.abspath(os.environ.get("NEXTID_BUILD_DIR", os.path.join(ROOT, "build")))
FCGI = os.path.join(BUILD, "nextid-fcgi")
CTL = os.path.join(BUILD, "nextidctl")
GRPC = os.path.join(BUILD, "nextid-grpc")
TEMPLATE = os.path.join(ROOT, "lighttpd", "nextid-dev.conf.in")
APACHE_TEMPLATE = os.path.join(ROOT, "apache", "nextid-dev.conf.in")
APACHE_SNIPPET = os.path.join(ROOT, "apache", "nextid.conf")
APACHE_SNIPPET_SOCKET = "/run/nextid/fcgi.sock"  # replaced by the test's socket in the copy
# The web console's files: the dev configs serve them from the checkout at /console/; the package
# installs them under CONSOLE_INSTALLED, which the Apache snippet's copy replaces with CONSOLE_DIR.
CONSOLE_DIR = os.path.join(ROOT, "www-conf", "console")
CONSOLE_INSTALLED = "/usr/share/nextid/console"

WEB_SERVERS = ("lighttpd", "apache")
# The front server of every NextidServer that does not name one.
WEB_SERVER = os.environ.get("NEXTID_WEB_SERVER", "lighttpd") or "lighttpd"
if WEB_SERVER not in WEB_SERVERS:
    raise SystemExit("NEXTID_WEB_SERVER must be one of %s, not %r" % (", ".join(WEB_SERVERS),
                                                                     WEB_SERVER))
# Apache 2.4 answers a path holding a malformed percent-escape (%zz, %4, a trailing %) with its
# own HTML 400 before any module sees the request (its core normalizes every path first, AH10244,
# and no directive turns that off); lighttpd, with the test config, hands such paths to nextid.
MALFORMED_ESCAPES_REACH_NEXTID = WEB_SERVER != "apache"
_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
SPAWNED_NEEDS_LIGHTTPD = ("spawned mode (the web server starts nextid-fcgi, lighttpd bin-path) "
                          "has no Apache equivalent")

START_DEADLINE_S = 10
STOP_DEADLINE_S = 10
HTTP_TIMEOUT_S = 10


def lighttpd_binary():
    """lighttpd lives in /usr/sbin, which an ordinary user's PATH may lack."""
    return shutil.which("lighttpd") or "/usr/sbin/lighttpd"


def apache_binary():
    """apache2 (Debian's apache2-bin) lives in /usr/sbin."""
    return shutil.which("apache2") or "/usr/sbin/apache2"


def free_port():
    """A port on 127.0.0.1 that nobody listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_socket_inodes(port):
    """The inodes of the sockets listening on 127.0.0.1:port (or on every address), from
    /proc/net/tcp."""
    wanted = {"0100007F:%04X" % port, "00000000:%04X" % port}
    inodes = set()
    with open("/proc/net/tcp", encoding="ascii") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[1] in wanted and fields[3] == "0A":      # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def holds_listening_socket(pid, port):
    """True if process pid has a socket listening on port open: the server that answers there is
    ours, not another test's that took the port between free_port() and our bind."""
    inodes = listening_socket_inodes(port)
    fd_dir = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return False
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


def render_lighttpd_conf(port, docroot, sock, errorlog=None, backend_extra=""):
    """Fill in lighttpd/nextid-dev.conf.in; errorlog None leaves errors on stderr."""
    with open(TEMPLATE, encoding="utf-8") as f:
        text = f.read()
    values = {
        "@PORT@": str(port),
        "@DOCROOT@": docroot,
        "@CONSOLE@": CONSOLE_DIR,
        "@SOCKET@": sock,
        "@ERRORLOG@": 'server.errorlog = "%s"' % errorlog if errorlog else "",
        "@BACKEND_EXTRA@": backend_extra,
    }
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.lstrip().startswith("#"):  # the header names the placeholders
            for key, value in values.items():
                line = line.replace(key, value)
        lines.append(line)
    return "".join(lines)


def render_apache_snippet(sock):
    """apache/nextid.conf, the package's conf-available file, with sock as its socket."""
    with open(APACHE_SNIPPET, encoding="utf-8") as f:
        text = f.read()
    if APACHE_SNIPPET_SOCKET not in text:
        raise StartError("%s does not name %s" % (APACHE_SNIPPET, APACHE_SNIPPET_SOCKET))
    if CONSOLE_INSTALLED not in text:
        raise StartError("%s does not name %s" % (APACHE_SNIPPET, CONSOLE_INSTALLED))
    return text.replace(APACHE_SNIPPET_SOCKET, sock).replace(CONSOLE_INSTALLED, CONSOLE_DIR)


def render_apache_conf(port, server_dir, sock, snippet, errorlog):
    """Fill in apache/nextid-dev.conf.in. Started as root, Apache serves as nobody in our group,
    which owns the socket (mode 0660)."""
    with open(APACHE_TEMPLATE, encoding="utf-8") as f:
        text = f.read()
    user = ""
    if os.geteuid() == 0:
        user = "User #%d\nGroup #%d" % (_nobody_uid(), os.getegid())
    values = {
        "@PORT@": str(port),
        "@DIR@": server_dir,
        "@ERRORLOG@": errorlog,
        "@USER@": user,
        "@SNIPPET@": snippet,
        "@SOCKET@": sock,
    }
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.lstrip().startswith("#"):  # the header names the placeholders
            for key, value in values.items():
                line = line.replace(key, value)
        lines.append(line)
    return "".join(lines)


def _nobody_uid():
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return 65534


def spawned_backend_options(conf_path, env=None, workers=None):
    """The "bin-path" lines with which lighttpd starts the master on fd 0 (spawned mode)."""
    cmd = "%s --config %s" % (FCGI, conf_path)
    if workers is not None:
        cmd += " --workers %d" % workers
    lines = ['    "bin-path" => "%s",' % cmd, '    "max-procs" => 1,']
    if env:
        pairs = ", ".join('"%s" => "%s"' % (k, v) for k, v in sorted(env.items()))
        lines.append('    "bin-environment" => ( %s ),' % pairs)
    return "\n".join(lines)


def render_nextid_conf(settings):
    return "".join("%s = %s\n" % (k, v) for k, v in settings.items())


def children(pid):
    """Direct children of pid, from /proc (empty once pid is gone)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


# What a worker's threads are doing, from /proc/PID/task/TID/syscall: the number of the syscall a
# blocked thread sits in (per machine), or its wchan where the number cannot be read.
# The store's lock-holding test hook sleeps in clock_nanosleep on CLOCK_BOOTTIME (7), a clock
# nothing else in nextid sleeps on (db/store_next.c, hold_lock_for_test).
CLOCK_NANOSLEEP_SYSCALLS = {"x86_64": {230}, "aarch64": {115}}
CLOCK_BOOTTIME = 7
ACCEPT_SYSCALLS = {"x86_64": {43, 288}, "aarch64": {202, 242}}
SIGWAIT_SYSCALLS = {"x86_64": {128}, "aarch64": {137}}


def _thread_in(task_dir, syscalls, wchan_word):
    numbers = syscalls.get(platform.machine())
    try:
        with open(os.path.join(task_dir, "syscall")) as f:
            first = f.read().split()[0]
        if numbers and first.isdigit():
            return int(first) in numbers
    except (OSError, IndexError):
        pass
    try:
        with open(os.path.join(task_dir, "wchan")) as f:
            return wchan_word in f.read()
    except OSError:
        return False


def _in_lock_hook(task_dir):
    """True when the thread sleeps in the store's lock-holding test hook: clock_nanosleep on
    CLOCK_BOOTTIME. Where /proc cannot tell the syscall, any nanosleep counts."""
    numbers = CLOCK_NANOSLEEP_SYSCALLS.get(platform.machine())
    try:
        with open(os.path.join(task_dir, "syscall")) as f:
            fields = f.read().split()
        if numbers and fields and fields[0].lstrip("-").isdigit():
            return int(fields[0]) in numbers and int(fields[1], 16) == CLOCK_BOOTTIME
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(os.path.join(task_dir, "wchan")) as f:
            return "nanosleep" in f.read()
    except OSError:
        return False


def _task_dirs(pid):
    base = "/proc/%d/task" % pid
    try:
        return [os.path.join(base, t) for t in os.listdir(base)]
    except OSError:
        return []


def holds_lock_in_hook(pid):
    """True when a thread of pid sleeps in the test hook: with NEXTID_TEST_HOLD_LOCK_MS, a
    worker holding a record lock."""
    return any(_in_lock_hook(t) for t in _task_dirs(pid))


def outside_db_holding_lock(pid):
    """True when a thread of pid sleeps in the lock-holding hook and every other one
    waits for a connection or for the stop: stopped or killed now, it holds record locks but no
    Berkeley DB mutex, so failchk can release what it holds (a thread stopped inside the library
    would stall every process and leave only a full recovery)."""
    tasks = _task_dirs(pid)
    sleeping = [t for t in tasks if _in_lock_hook(t)]
    return bool(sleeping) and all(t in sleeping or
                                  _thread_in(t, ACCEPT_SYSCALLS, "accept") or
                                  _thread_in(t, SIGWAIT_SYSCALLS, "sigtimedwait") for t in tasks)


def waits_idle(pid):
    """True when every thread of worker pid waits for a connection (accept) or for the stop
    (sigwait): it holds nothing in Berkeley DB."""
    tasks = _task_dirs(pid)
    return bool(tasks) and all(_thread_in(t, ACCEPT_SYSCALLS, "accept") or
                               _thread_in(t, SIGWAIT_SYSCALLS, "sigtimedwait") for t in tasks)


def is_running(pid):
    """True while pid exists and is not a zombie (a zombie has already stopped)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def stop_process(pid, deadline_s=5):
    """SIGSTOP pid and wait until every one of its threads is stopped: kill() returns before the
    signal is acted on, and on a busy machine a thread may meanwhile accept one more request."""
    os.kill(pid, signal.SIGSTOP)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        states = []
        for task in _task_dirs(pid):
            try:
                with open(os.path.join(task, "stat")) as f:
                    stat = f.read()
            except OSError:
                continue
            states.append(stat[stat.rindex(")") + 2])
        if states and all(s in "Tt" for s in states):
            return
        time.sleep(0.005)
    raise AssertionError("process %d did not stop within %d s" % (pid, deadline_s))


def wait_gone(pids, deadline_s):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if not any(is_running(p) for p in pids):
            return True
        time.sleep(0.02)
    return not any(is_running(p) for p in pids)


class Reply(collections.namedtuple("Reply", "status headers body")):
    """status (int), headers (dict, lower-case names, repeated names joined by ", "), body (bytes).
    method and path are kept for failure messages."""

    method = "?"
    path = "?"

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __str__(self):
        shown = {k: v for k, v in self.headers.items()
                 if k in ("content-type", "cache-control", "allow", "server")}
        body = self.body if len(self.body) <= 160 else self.body[:160] + b"..."
        return "%s %s -> %d %r %r" % (self.method, self.path, self.status, shown, body)


# Set by conftest.py while a test marked no_web_server runs: such a test runs behind lighttpd
# only, and a request it sends through the web server fails it (the mark would be wrong).
# Starting a server still waits for /health/live (wait_ready), which is not the test's request.
NO_WEB_SERVER_TEST = None


def request(port, method, path, headers=None, body=None, timeout=HTTP_TIMEOUT_S):
    """One request on a fresh connection to 127.0.0.1:port; the path is sent as written."""
    if NO_WEB_SERVER_TEST:
        raise AssertionError("%s is marked no_web_server (it skips behind Apache) but sent %s %s "
                             "through the web server" % (NO_WEB_SERVER_TEST, method, path))
    return _send(port, method, path, headers, body, timeout)


def _send(port, method, path, headers, body, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {}
        for name, value in resp.getheaders():
            name = name.lower()
            hdrs[name] = hdrs[name] + ", " + value if name in hdrs else value
        reply = Reply(resp.status, hdrs, data)
    finally:
        conn.close()
    reply.method, reply.path = method, path
    return reply


class StartError(Exception):
    pass


class NextidServer:
    """One nextid behind one web server, in its own temporary directory.

    mode: "socket" or "spawned" (lighttpd only). config: extra nextid.conf keys. env: extra
    environment for the master (NEXTID_TEST_HOLD_LOCK_MS). workers: passed as --workers when
    given. web_server: "lighttpd" or "apache"; default NEXTID_WEB_SERVER, else lighttpd.
    """

    def __init__(self, mode="socket", config=None, env=None, workers=None, web_server=None):
        if mode not in ("socket", "spawned"):
            raise ValueError("mode must be 'socket' or 'spawned'")
        self.web_server = web_server or WEB_SERVER
        if self.web_server not in WEB_SERVERS:
            raise ValueError("web_server must be one of %s" % ", ".join(WEB_SERVERS))
        if mode == "spawned" and self.web_server != "lighttpd":
            raise ValueError(SPAWNED_NEEDS_LIGHTTPD)
        self.mode = mode
        self.env = dict(env or {})
        self.workers = workers
        # How long start() waits for /health/live: a replication member joining a group waits
        # for the group first, and the tests that start one give it longer.
        self.start_deadline_s = START_DEADLINE_S
        self.dir = tempfile.mkdtemp(prefix="nextid-http-")
        self.data_dir = os.path.join(self.dir, "data")
        self.docroot = os.path.join(self.dir, "docroot")
        self.socket_path = os.path.join(self.dir, "nextid.sock")
        self.conf_path = os.path.join(self.dir, "nextid.conf")
        self.master_log = os.path.join(self.dir, "master.log")
        name = self.web_server
        self.web_conf_path = os.path.join(self.dir, name + ".conf")
        self.web_log = os.path.join(self.dir, name + ".out")          # its stdout and stderr
        self.error_log = os.path.join(self.dir, name + "-error.log")
        self.apache_dir = os.path.join(self.dir, "apache")            # Apache's ServerRoot
        self.apache_snippet_path = os.path.join(self.apache_dir, "nextid.conf")
        os.mkdir(self.docroot)
        if self.web_server == "apache":
            os.mkdir(self.apache_dir)
            os.mkdir(os.path.join(self.apache_dir, "docroot"))
            if os.geteuid() == 0:
                # Apache's children serve as nobody in our group: let the group reach the socket.
                os.chmod(self.dir, 0o750)
        self.port = free_port()
        # In spawned mode the master listens on fd 0; no socket key can point it elsewhere.
        self.settings = {"data_dir": self.data_dir}
        if mode == "socket":
            self.settings["socket"] = self.socket_path
        self.settings.update(config or {})
        self.write_config()
        self.web = None            # Popen of the web server
        self.master = None         # Popen, socket mode only
        self.master_pid = None
        self.seen_pids = set()     # every child of a master we have listed
        self.started_at = None     # monotonic time of the last master start

    # configuration -----------------------------------------------------------------------

    def write_config(self, **changes):
        """(Re)write nextid.conf with the current settings plus changes."""
        self.settings.update(changes)
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write(render_nextid_conf(self.settings))

    @property
    def lighttpd(self):
        """The web server's Popen (the spawned-mode tests, which run behind lighttpd only)."""
        return self.web

    def _write_web_conf(self):
        if self.web_server == "apache":
            with open(self.apache_snippet_path, "w", encoding="utf-8") as f:
                f.write(render_apache_snippet(self.socket_path))
            text = render_apache_conf(self.port, self.apache_dir, self.socket_path,
                                      self.apache_snippet_path, self.error_log)
        else:
            extra = ""
            if self.mode == "spawned":
                extra = spawned_backend_options(self.conf_path, self.env, self.workers)
            text = render_lighttpd_conf(self.port, self.docroot, self.socket_path, self.error_log,
                                        extra)
        with open(self.web_conf_path, "w", encoding="utf-8") as f:
            f.write(text)

    def _web_command(self):
        if self.web_server == "apache":
            return [apache_binary(), "-f", self.web_conf_path, "-DFOREGROUND"]
        return [lighttpd_binary(), "-D", "-f", self.web_conf_path]

    # start ---------------------------------------------------------------------------------

    def start(self):
        """Start everything and wait until GET /health/live answers 200."""
        if not os.access(FCGI, os.X_OK):
            raise StartError("%s is missing: run make first" % FCGI)
        if self.mode == "socket":
            self.start_master(wait=False)
        self.start_web()
        return self

    def start_master(self, wait=True):
        """Socket mode: start nextid-fcgi on the same data directory; wait=True also waits for
        /health/live through the web server."""
        assert self.mode == "socket", "in spawned mode lighttpd starts the master"
        with open(self.master_log, "ab") as log:
            log.write(b"--- harness: starting nextid-fcgi\n")
            cmd = [FCGI, "--config", self.conf_path, "--socket", self.socket_path]
            if self.workers is not None:
                cmd += ["--workers", str(self.workers)]
            env = dict(os.environ)
            env.update(self.env)
            self.master = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=log, env=env, cwd=self.dir)
        self.master_pid = self.master.pid
        self.started_at = time.monotonic()
        end = time.monotonic() + START_DEADLINE_S
        while True:
            if self.master.poll() is not None:
                self._fail_start("nextid-fcgi exited with status %d before its socket appeared"
                                 % self.master.returncode)
            if self._socket_accepts():
                break
            if time.monotonic() > end:
                self._fail_start("no listening socket at %s after %d s"
                                 % (self.socket_path, START_DEADLINE_S))
            time.sleep(0.02)
        if wait:
            self.wait_ready()

    def _socket_accepts(self):
        if not os.path.exists(self.socket_path):
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(self.socket_path)
            except OSError:
                return False
        return True

    def start_web(self):
        """Start the web server in the foreground on our port (a new port if another process
        took it meanwhile) and wait until /health/live answers 200."""
        for attempt in range(3):
            self._write_web_conf()
            if self.mode == "spawned":
                self.started_at = time.monotonic()
            log_size = _size(self.error_log) + _size(self.web_log)
            with open(self.web_log, "ab") as log:
                log.write(b"--- harness: starting %s\n" % self.web_server.encode())
                self.web = subprocess.Popen(self._web_command(), stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=log, cwd=self.dir)
            try:
                self.wait_ready(deadline_s=self.start_deadline_s)
                break
            except StartError:
                logs = _tail(self.error_log) + _tail(self.web_log)
                if self.web.poll() is not None and attempt < 2 and \
                        _size(self.error_log) + _size(self.web_log) > log_size and \
                        "Address already in use" in logs:
                    self.port = free_port()
                    continue
                raise
        if self.mode == "spawned":
            self.master_pid = self._find_spawned_master()

    start_lighttpd = start_web

    def _find_spawned_master(self):
        end = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < end:
            for pid in children(self.web.pid):
                if comm(pid) == "nextid-fcgi":
                    return pid
            time.sleep(0.02)
        self._fail_start("lighttpd has no nextid-fcgi child")

    def wait_ready(self, path="/health/live", deadline_s=START_DEADLINE_S):
        """Poll path until it answers 200; fail with the configs and logs after deadline_s."""
        end = time.monotonic() + deadline_s
        last = None
        while time.monotonic() < end:
            if self.web is not None and self.web.poll() is not None:
                self._fail_start("%s exited with status %d" % (self.web_server,
                                                               self.web.returncode))
            if self.mode == "socket" and self.master is not None and self.master.poll() is not None:
                self._fail_start("nextid-fcgi exited with status %d" % self.master.returncode)
            try:
                reply = _send(self.port, "GET", path, None, None, 2)
                if reply.status == 200 and self._answered_by_our_web_server():
                    return reply
                last = str(reply)
            except OSError as e:
                last = repr(e)
            time.sleep(0.05)
        self._fail_start("%s did not answer 200 within %d s (last: %s)" % (path, deadline_s, last))

    def _answered_by_our_web_server(self):
        """Another test's server can take our port before ours binds it (two suites run side by
        side); its 200 must not count, and ours then exits with "Address already in use"."""
        if self.web is None:
            return True
        if holds_listening_socket(self.web.pid, self.port):
            return True
        time.sleep(0.2)          # ours may still be starting, or exiting; poll() says which
        return False

    def _fail_start(self, why):
        print(self.describe())
        raise StartError(why + "; see the configs and logs printed above, kept in " + self.dir)

    def describe(self):
        """The generated configs and the logs, for a failure message."""
        parts = []
        name = self.web_server
        files = [("nextid.conf", self.conf_path), (name + ".conf", self.web_conf_path)]
        if name == "apache":
            files.append(("apache snippet (apache/nextid.conf)", self.apache_snippet_path))
        files += [("nextid-fcgi stderr", self.master_log),
                  (name + " stdout/stderr", self.web_log),
                  (name + " error log", self.error_log)]
        for title, path in files:
            parts.append("===== %s (%s)\n%s" % (title, path, _tail(path, 8000)))
        return "\n".join(parts)

    # HTTP ----------------------------------------------------------------------------------

    def request(self, method, path, headers=None, body=None, timeout=HTTP_TIMEOUT_S):
        return request(self.port, method, path, headers, body, timeout)

    def get(self, path, headers=None, timeout=HTTP_TIMEOUT_S):
        return request(self.port, "GET", path, headers, None, timeout)

    # processes -----------------------------------------------------------------------------

    def master_children(self):
        kids = children(self.master_pid) if self.master_pid else []
        self.seen_pids.update(kids)
        return kids

    def worker_pids(self):
        """Sorted pids of the master's children named nextid-worker."""
        return sorted(p for p in self.master_children() if comm(p) == "nextid-worker")

    def kill_master(self, sig):
        """Send sig to the master. For SIGKILL, also wait (5 s at most) until it and its children
        are gone, as a service manager would before starting it again."""
        kids = self.master_children()
        os.kill(self.master_pid, sig)
        if sig == signal.SIGKILL:
            self.wait_master(5)
            if not wait_gone(kids, 5):
                raise AssertionError("children of the killed master still run: %r"
                                     % [p for p in kids if is_running(p)])

    def wait_master(self, timeout):
        """Wait for the master to exit; its exit status in socket mode (None in spawned mode),
        or raise TimeoutError."""
        if self.mode == "socket":
            try:
                rc = self.master.wait(timeout)
            except subprocess.TimeoutExpired:
                raise TimeoutError("nextid-fcgi %d still runs after %s s" % (self.master_pid, timeout))
            return rc
        if not wait_gone([self.master_pid], timeout):
            raise TimeoutError("nextid-fcgi %d still runs after %s s" % (self.master_pid, timeout))
        return None

    def stop_web(self):
        """SIGTERM the web server (SIGKILL after the stop deadline). In spawned mode lighttpd
        stops the master; this waits for it too and returns False if it had to be killed."""
        stopped = True
        if self.web is None:
            return stopped
        _terminate(self.web)
        self.web = None
        if self.mode == "spawned" and self.master_pid:
            self.master_children()
            if not wait_gone([self.master_pid], STOP_DEADLINE_S):
                _kill_pid(self.master_pid, signal.SIGKILL)
                stopped = False
            self.master_pid = None
            self.started_at = None
        return stopped

    stop_lighttpd = stop_web

    def stop(self):
        """Stop what this server started: the web server, then the master (SIGTERM, then SIGKILL after
        the deadline). A child of our master still alive after that is killed and reported."""
        self.stop_web()
        if self.master is not None:
            _terminate(self.master)
            self.master = None
        ours = [p for p in self.seen_pids if is_running(p) and (comm(p) or "").startswith("nextid-")]
        wait_gone(ours, 2)
        leftovers = [p for p in ours if is_running(p)]
        for pid in leftovers:
            _kill_pid(pid, signal.SIGKILL)
        self.seen_pids.clear()
        return leftovers

    def cleanup(self, keep=False):
        if keep:
            return self.dir
        shutil.rmtree(self.dir, ignore_errors=True)
        return None

    # administration --------------------------------------------------------------------

    def nextidctl(self, *args, check=True, timeout=30):
        """Run build/nextidctl on this server's config; raises AssertionError when check is set
        and it exits non-zero."""
        cmd = [CTL, "--config", self.conf_path] + [str(a) for a in args]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        proc.stdout = proc.stdout.decode("utf-8", "replace")
        proc.stderr = proc.stderr.decode("utf-8", "replace")
        if check and proc.returncode != 0:
            raise AssertionError("%s exited %d: %s" % (" ".join(cmd), proc.returncode, proc.stderr))
        return proc


class Load:
    """Clients in threads, each sending `method path` one request at a time until stop(), the
    duration or its request budget runs out. Each client records (status, next_value or None)
    per request; a connection error or timeout is recorded as status 0. After a failure a
    client waits backoff_s, as a real client would, instead of spending its budget on errors."""

    backoff_s = 0.02

    def __init__(self, server, path, clients, duration_s, max_requests=2000, timeout=5,
                 method="GET"):
        self.server, self.path, self.method = server, path, method
        self.duration_s, self.max_requests, self.timeout = duration_s, max_requests, timeout
        self.results = [[] for _ in range(clients)]
        self.errors = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(clients)]

    def _run(self, i):
        end = time.monotonic() + self.duration_s
        out = self.results[i]
        while not self._stop.is_set() and time.monotonic() < end and len(out) < self.max_requests:
            try:
                reply = self.server.request(self.method, self.path, timeout=self.timeout)
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(repr(e))
                out.append((0, None))
                time.sleep(self.backoff_s)
                continue
            value = None
            if reply.status == 200:
                value = reply.json()["next_value"]
            else:
                time.sleep(self.backoff_s)
            out.append((reply.status, value))

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def wait(self):
        """Join the clients; they stop by themselves at the duration (plus one request timeout)."""
        for t in self._threads:
            t.join(self.duration_s + 2 * self.timeout)
        assert not any(t.is_alive() for t in self._threads), "a load client did not stop"
        return self

    def stop(self):
        self._stop.set()
        return self.wait()

    def values(self):
        return [v for client in self.results for s, v in client if s == 200]

    def count(self):
        return sum(len(c) for c in self.results)

    def statuses(self):
        return collections.Counter(s for client in self.results for s, _ in client)


# Checks shared by the test files ---------------------------------------------------------

def expect(reply, status, body, content_type="application/json"):
    """Status, Cache-Control, Content-Type and the whole body, exactly. body may be bytes, or a
    dict/list that is serialised the way the service does (compact, raw UTF-8, trailing newline)."""
    if not isinstance(body, bytes):
        body = compact_json(body)
    assert (reply.status, reply.body) == (status, body), str(reply)
    assert reply.headers.get("cache-control") == "no-store", str(reply)
    assert reply.headers.get("content-type") == content_type, str(reply)


def compact_json(obj):
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def web_server_refuses(path):
    """True when the web server in front answers path itself, before nextid sees it: a
    malformed percent-escape in the path behind Apache (MALFORMED_ESCAPES_REACH_NEXTID)."""
    return not MALFORMED_ESCAPES_REACH_NEXTID and bool(_MALFORMED_ESCAPE.search(path.split("?")[0]))


def from_web_server(reply):
    """True when reply is the web server's own error page, not an answer of nextid (which always
    sends Cache-Control: no-store): e.g. a 502 or 503 for a request in flight when the worker
    serving it was killed."""
    return reply.status >= 400 and reply.headers.get("cache-control") != "no-store"


def expect_next(reply, value, name):
    expect(reply, 200, {"next_value": value, "sequence_id": name})


def not_found():
    return {"error": "Endpoint not found",
            "message": "No endpoint answers this path; check the URL against the API documentation."}


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return "(missing)"
    return data[-limit:].decode("utf-8", "replace")


def _terminate(proc):
    """SIGTERM a child we started, wait for it, SIGKILL it after the stop deadline."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        print("harness: pid %d ignored SIGTERM for %d s; killing it" % (proc.pid, STOP_DEADLINE_S),
              file=sys.stderr)
        proc.kill()
        return proc.wait()


def _kill_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
