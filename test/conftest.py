"""pytest options and fixtures of the mod_tls suite (see README.md)."""

import hashlib
import os
import shutil

import pytest

from modtls.env import DEFAULT_MOD_TLS_SO, DEFAULT_PORT_BASE, TlsTestEnv

HERE = os.path.dirname(os.path.abspath(__file__))


def default_server_root() -> str:
    """test/gen, unless httpd's children (User daemon) cannot reach it: a checkout in /root (mode
    700) is common on a fresh machine. Then a directory of this checkout's own under /var/tmp."""
    d = HERE
    while d != os.path.dirname(d):
        if not os.stat(d).st_mode & 0o001:
            digest = hashlib.sha256(HERE.encode()).hexdigest()[:12]
            return f"/var/tmp/mod_tls-test-{digest}"
        d = os.path.dirname(d)
    return os.path.join(HERE, "gen")


def pytest_addoption(parser):
    group = parser.getgroup("mod_tls")
    group.addoption("--server-root", default=default_server_root(),
                    help="where the generated server root goes (wiped at session start; default: test/gen, "
                         "or /var/tmp/mod_tls-test-<hash of the checkout> if others cannot enter the checkout)")
    group.addoption("--keep-root", action="store_true",
                    help="keep the server root (conf, certs, logs) after the session")
    group.addoption("--errorlog", choices=("tail", "all", "none"), default="tail",
                    help="on failure, attach the httpd error log written during the test: its last "
                         "--errorlog-lines lines (tail, default), all of it, or nothing")
    group.addoption("--errorlog-lines", type=int, default=60)


_ENV = None


@pytest.fixture(scope="session")
def env(request) -> TlsTestEnv:
    """The session's test environment: a fresh server root with certificates, docroot and CGI
    scripts. Each test class writes its own config and (re)starts httpd with env.serve()."""
    global _ENV
    port_base = int(os.environ.get("MODTLS_TEST_PORT_BASE", DEFAULT_PORT_BASE))
    mod_tls_so = os.environ.get("MOD_TLS_SO", DEFAULT_MOD_TLS_SO)
    e = TlsTestEnv(request.config.getoption("--server-root"), port_base=port_base, mod_tls_so=mod_tls_so,
                   preload=os.environ.get("MODTLS_TEST_PRELOAD"))
    e.setup()
    _ENV = e
    yield e
    _ENV = None
    e.stop()
    # the last server's processes report their leaks as they exit, i.e. in the stop above
    reports = e.new_sanitizer_reports()
    if request.config.getoption("--keep-root") or reports:
        print(f"\nmod_tls tests: server root kept in {e.server_root}")
    else:
        shutil.rmtree(e.server_root, ignore_errors=True)
    if reports:
        pytest.fail(sanitizer_failure(reports, "when the last server stopped"), pytrace=False)


def sanitizer_failure(reports, when) -> str:
    """The failure message for new sanitizer reports: every report, each cut to its start."""
    parts = [f"{len(reports)} sanitizer report(s) appeared {when}:"]
    for path, text in reports:
        parts.append(f"--- {path}\n{text[:6000]}")
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def _errorlog_mark(request, env):
    """Remember where the error log stood when the test began (see pytest_runtest_makereport).
    Afterwards, fail the test (as an error in its teardown) if a sanitizer report appeared."""
    request.node._modtls_mark = env.log_mark()
    yield
    reports = env.new_sanitizer_reports()
    if reports:
        pytest.fail(sanitizer_failure(reports, "during this test (a leak is reported when its process "
                                      "exits: maybe the server of an earlier test, stopped here)"),
                    pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    mode = item.config.getoption("--errorlog")
    if not rep.failed or mode == "none" or _ENV is None:
        return
    mark = getattr(item, "_modtls_mark", None)
    if mark is None:  # failed while setting up (e.g. starting httpd): show that start
        mark = _ENV.last_start_mark
    lines = _ENV.log_since(min(mark, _ENV.log_mark())).splitlines()
    if mode == "tail":
        lines = lines[-item.config.getoption("--errorlog-lines"):]
    rep.sections.append((f"httpd error log ({_ENV.error_log})", "\n".join(lines) or "(nothing logged)"))
