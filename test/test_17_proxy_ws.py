"""Websockets through mod_tls in both roles (issue 12): a wss:// client to a mod_tls frontend
proxied to a ws:// backend, a ws:// client proxied to a wss:// backend (mod_tls as the TLS
client, through mod_proxy_http's upgrade=websocket and through mod_proxy_wstunnel's wss://), and
both at once. Single frames of 1 MiB and 10 MiB, many small frames, and an interactive exchange
in which every keystroke-sized frame must be echoed before the next is sent (decrypted data held
back on a non-blocking read makes every echo one frame late).

The backends are Python websockets echo servers (python3-websockets), started and stopped by
their pid. Ports: env.port_base + 120 and + 121."""

import asyncio
import os
import ssl
import subprocess
import sys
import time

import pytest
import websockets  # python3-websockets, in MODTLS_TEST_PKGS (scripts/lib.sh)

ECHO_SERVER = r'''
import asyncio, ssl, sys
import websockets

async def echo(ws, path=None):
    async for m in ws:
        await ws.send(m)

async def main():
    port = int(sys.argv[1])
    ctx = None
    if len(sys.argv) > 3:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    async with websockets.serve(echo, "127.0.0.1", port, ssl=ctx, max_size=None, compression=None,
                                ping_interval=None):
        await asyncio.Future()

asyncio.run(main())
'''

PROXY_MODULES = ("proxy", "proxy_http", "proxy_wstunnel")


def ws_ports(env):
    return env.port_base + 120, env.port_base + 121


def wait_port(port, timeout=10):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@pytest.fixture(scope="module")
def echo_servers(env):
    script = os.path.join(env.tmp_dir, "ws_echo.py")
    with open(script, "w") as f:
        f.write(ECHO_SERVER)
    p_ws, p_wss = ws_ports(env)
    cred = env.certs.get("localhost", "ec256", domains=["localhost", "127.0.0.1"])
    procs = [subprocess.Popen([sys.executable, script, str(p_ws)]),
             subprocess.Popen([sys.executable, script, str(p_wss), cred.cert_file, cred.key_file])]
    try:
        for port in (p_ws, p_wss):
            wait_port(port)
        yield cred
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)


@pytest.fixture(scope="module")
def frontend(env, echo_servers):
    cred = echo_servers
    p_ws, p_wss = ws_ports(env)
    body = "\n".join([
        "TLSProxyEngine on",
        f"TLSProxyCA {env.ca_file}",
        "ProxyTimeout 30",
        f"ProxyPass /ws/ http://127.0.0.1:{p_ws}/ upgrade=websocket",
        f"ProxyPass /wss/ https://localhost:{p_wss}/ upgrade=websocket",
        f"ProxyPass /wstunnel/ wss://localhost:{p_wss}/",
        f"TLSEngine {env.tls_port}",
        env.vhost("localhost", env.tls_port, certs=[cred]),
    ])
    env.serve(body, modules=PROXY_MODULES, listen=[env.tls_port], http2=False)
    yield
    env.stop()


def client_ctx(env):
    ctx = ssl.create_default_context(cafile=env.ca_file)
    return ctx


def uri(env, role):
    """role: 'front' (wss client -> mod_tls -> ws backend), 'back' (ws client -> mod_tls client ->
    wss backend, mod_proxy_http), 'tunnel' (the same through mod_proxy_wstunnel's wss://), 'both'."""
    return {
        "front": (f"wss://localhost:{env.tls_port}/ws/", True),
        "back": (f"ws://127.0.0.1:{env.http_port}/wss/", False),
        "tunnel": (f"ws://127.0.0.1:{env.http_port}/wstunnel/", False),
        "both": (f"wss://localhost:{env.tls_port}/wss/", True),
    }[role]


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def connect(env, role):
    u, tls = uri(env, role)
    return await websockets.connect(u, ssl=client_ctx(env) if tls else None, max_size=None, compression=None,
                                    ping_interval=None, open_timeout=10, close_timeout=5)


ROLES = ["front", "back", "tunnel", "both"]


@pytest.mark.usefixtures("frontend")
class TestWebsockets:

    @pytest.mark.parametrize("role", ROLES)
    def test_17_ws_large_frames(self, env, role):
        async def go():
            ws = await connect(env, role)
            try:
                for size in (1 << 20, 10 << 20):
                    data = os.urandom(size)
                    await ws.send(data)
                    echo = await asyncio.wait_for(ws.recv(), 60)
                    assert len(echo) == size and echo == data, size
            finally:
                await ws.close()
        run(go())

    @pytest.mark.parametrize("role", ROLES)
    def test_17_ws_many_small_frames(self, env, role):
        async def go():
            ws = await connect(env, role)
            try:
                msgs = [os.urandom(1 + i % 200) for i in range(3000)]

                async def sender():
                    for m in msgs:
                        await ws.send(m)
                task = asyncio.ensure_future(sender())
                for m in msgs:
                    assert await asyncio.wait_for(ws.recv(), 20) == m
                await task
            finally:
                await ws.close()
        run(go())

    @pytest.mark.parametrize("role", ROLES)
    def test_17_ws_interactive_echo_at_once(self, env, role):
        async def go():
            ws = await connect(env, role)
            slowest = 0.0
            try:
                for i in range(60):
                    key = bytes([97 + i % 26])
                    t0 = time.monotonic()
                    await ws.send(key)
                    # an echo held back arrives only with the next keystroke: this would time out
                    assert await asyncio.wait_for(ws.recv(), 3) == key, i
                    slowest = max(slowest, time.monotonic() - t0)
            finally:
                await ws.close()
            return slowest
        slowest = run(go())
        assert slowest < 1.0, slowest
