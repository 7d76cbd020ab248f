"""Fixtures for the console's browser tests: one real nextid behind lighttpd (serving the console
from this checkout's www-conf/console) and one headless Chromium driven by chromedriver, shared by
the tests of a module to keep `make check-browser` short. Everything started here is stopped at
the end; the server's directory is kept when a test failed.

Screenshots of each view go to the test's output directory, build/browser-screenshots/ (or the
directory NEXTID_SCREENSHOTS names): a test run leaves the checkout as it found it. The copies
committed in tests/browser/screenshots/ (the console's views as they look) are refreshed with
`make console-screenshots`.
"""

import os
import shutil
import sys
import tempfile

import pytest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

import nextid_server  # noqa: E402

SCREENSHOTS = os.path.abspath(os.environ.get(
    "NEXTID_SCREENSHOTS", os.path.join(HERE, "..", "..", "build", "browser-screenshots")))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TOKEN = "console-T0ken_for.browser~tests"

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:  # python3-selenium missing: say what to install
    webdriver = None


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        item.session.console_failed = True


@pytest.fixture(scope="module")
def console_server(request):
    """nextid with an admin token, behind lighttpd, one worker thread per request."""
    srv = nextid_server.NextidServer(config={"admin_token": TOKEN}, web_server="lighttpd")
    print("nextid test directory: %s (port %d)" % (srv.dir, srv.port))
    try:
        srv.start()
        yield srv
    finally:
        leftovers = srv.stop()
        kept = srv.cleanup(keep=getattr(request.session, "console_failed", False) or
                           bool(leftovers))
        if kept:
            print("\nkept %s: configs, logs and data of the failed test" % kept)


@pytest.fixture(scope="module")
def downloads():
    path = tempfile.mkdtemp(prefix="nextid-browser-dl-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(downloads):
    """Headless Chromium; its console log is read by the tests (goog:loggingPrefs)."""
    if webdriver is None or not os.access(CHROMEDRIVER, os.X_OK):
        pytest.fail("the browser tests need Debian's chromium, chromium-driver and "
                    "python3-selenium (make check installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-sync", "--window-size=1024,900", "--force-device-scale-factor=1",
                "--lang=en-US"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": downloads,
                                           "download.prompt_for_download": False})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=os.devnull) if _service_takes_log_output() \
        else Service(CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(20)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow",
                                                        "downloadPath": downloads})
    try:
        yield driver
    finally:
        driver.quit()


def _service_takes_log_output():
    import inspect
    return "log_output" in inspect.signature(Service.__init__).parameters


@pytest.fixture(scope="session")
def screenshots():
    os.makedirs(SCREENSHOTS, exist_ok=True)
    return SCREENSHOTS
