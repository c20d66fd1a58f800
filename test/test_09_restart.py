"""Restarts: the startup version line, graceful restarts under running transfers, certificates
reloaded by graceful and full restarts, config changes picked up."""

import os
import re
import subprocess
import time

import pytest

from modtls.env import sha256_file

NAME = "restart.example.org"
MiB = 1024 * 1024


def config(env, cred, extra=""):
    return (f"TLSEngine {env.tls_port}\n"
            + env.vhost(NAME, env.tls_port, certs=[cred], docroot=env.docroot) + extra)


@pytest.fixture(scope="module")
def cred(env):
    return env.certs.get(NAME, "ec256")


@pytest.fixture(scope="module", autouse=True)
def server(env, cred):
    env.serve(config(env, cred), listen=[env.tls_port])


def assert_serves(env, name=NAME):
    resp, info = env.http_request(env.tls_port, "/index.html", sni=name)
    assert resp.status == 200
    return info


class TestStartup:

    def test_09_version_line_at_start(self, env, cred):
        env.restart()
        lines = env.log_lines(env.last_start_mark, r"mod_tls/\d+\.\d+\.\d+")
        assert len(lines) == 1, f"expected one version line per start, got {lines}"
        assert f"rustls/{env.rustls_version}" in lines[0], lines[0]
        assert "[tls:info]" in lines[0], lines[0]

    def test_09_version_line_needs_info_level(self, env, cred):
        # at LogLevel warn it is not shown: it really is an info line
        env.serve(config(env, cred), listen=[env.tls_port], log_level="warn")
        try:
            assert env.log_lines(env.last_start_mark, r"mod_tls/\d+\.\d+\.\d+") == []
        finally:
            env.serve(config(env, cred), listen=[env.tls_port])


class TestGraceful:

    @pytest.mark.parametrize("proto", ["--http1.1", "--http2"])
    def test_09_graceful_during_download(self, env, proto):
        path, digest = env.data_file(16 * MiB)
        out = os.path.join(env.tmp_dir, f"slow-download{proto}")
        cmd = env.curl_args([env.url(NAME, env.tls_port, path)], proto, "--limit-rate", "4M",
                            timeout=60, outputs=[out])
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while (not os.path.exists(out) or os.path.getsize(out) < MiB) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert os.path.exists(out) and os.path.getsize(out) >= MiB, "download did not start"
            env.graceful()
            assert proc.poll() is None, "download ended before the restart: the test proves nothing"
            assert_serves(env)  # the new generation serves
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err.decode()
            assert os.path.getsize(out) == 16 * MiB
            assert sha256_file(out) == digest
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            if os.path.exists(out):
                os.unlink(out)

    def test_09_graceful_repeatedly(self, env):
        mark = env.log_mark()
        for _ in range(4):
            env.graceful()
            assert_serves(env)
        assert env.log_errors(mark) == []

    def test_09_graceful_picks_up_new_vhost(self, env, cred):
        added = env.certs.get("added.example.org", "ec256")
        assert env.tls_handshake_error(env.tls_port, sni=added.name) is not None  # strict SNI: unknown
        env.write_config(config(env, cred, env.vhost(added.name, env.tls_port, certs=[added])),
                         listen=[env.tls_port])
        env.graceful()
        info = assert_serves(env, added.name)
        assert info.cert_der == added.cert_der
        env.write_config(config(env, cred), listen=[env.tls_port])
        env.graceful()


class TestCertificateReload:

    def test_09_renewed_cert_after_graceful(self, env, cred):
        before = assert_serves(env).cert_der
        assert before == env.certs.get(NAME, "ec256").cert_der
        new = env.certs.renew(env.certs.get(NAME, "ec256"))
        assert new.cert_der != before
        env.graceful()
        assert assert_serves(env).cert_der == new.cert_der

    def test_09_renewed_cert_after_full_restart(self, env):
        before = assert_serves(env).cert_der
        new = env.certs.renew(env.certs.get(NAME, "ec256"))
        assert new.cert_der != before
        env.restart()
        assert assert_serves(env).cert_der == new.cert_der

    def test_09_old_cert_served_until_restart(self, env):
        # files are read at (re)start only: replacing them changes nothing before that
        before = assert_serves(env).cert_der
        new = env.certs.renew(env.certs.get(NAME, "ec256"))
        assert assert_serves(env).cert_der == before
        env.graceful()
        assert assert_serves(env).cert_der == new.cert_der
