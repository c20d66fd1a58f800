"""Test clients written in C (test/clients/*.c), for what neither curl, openssl s_client nor
Python's ssl can be made to do. Each is compiled once per session into SERVER_ROOT/bin with the
system compiler against Debian's libssl-dev; a build failure fails the test that needs the client
(it is never skipped)."""

import os
import shutil
from typing import Dict, Tuple

from .env import run

CLIENTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "clients")
CFLAGS = ("-O2", "-g", "-Wall", "-Wextra", "-std=gnu99")
LIBS = ("-lssl", "-lcrypto")

# (server root, client name) -> executable: built once per session (a new session wipes the root)
_built: Dict[Tuple[str, str], str] = {}


class ClientBuildError(Exception):
    pass


def c_client(env, name: str) -> str:
    """The executable of test/clients/NAME.c, compiled into env's SERVER_ROOT/bin on first use."""
    key = (env.server_root, name)
    exe = _built.get(key)
    if exe and os.path.exists(exe):
        return exe
    src = os.path.join(CLIENTS_DIR, f"{name}.c")
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise ClientBuildError(f"no C compiler (cc) to build {src}")
    out_dir = os.path.join(env.server_root, "bin")
    os.makedirs(out_dir, mode=0o755, exist_ok=True)
    exe = os.path.join(out_dir, name)
    r = run([cc, *CFLAGS, "-o", exe, src, *LIBS], timeout=120)
    if r.rc != 0 or not os.path.exists(exe):
        raise ClientBuildError(f"cannot build {src} (Debian: apt-get install gcc libssl-dev)\n{r}")
    _built[key] = exe
    return exe


MODULES_DIR = os.path.join(os.path.dirname(CLIENTS_DIR), "modules")


def c_module(env, name: str) -> str:
    """The shared object of the test-only httpd module test/modules/NAME.c, compiled into env's
    SERVER_ROOT/bin on first use (warnings are errors); a build failure fails the test."""
    key = (env.server_root, f"module:{name}")
    so = _built.get(key)
    if so and os.path.exists(so):
        return so
    src = os.path.join(MODULES_DIR, f"{name}.c")
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise ClientBuildError(f"no C compiler (cc) to build {src}")
    apr = run(["apr-1-config", "--includes", "--cppflags"], timeout=30)
    if apr.rc != 0:
        raise ClientBuildError(f"apr-1-config failed (Debian: apt-get install libapr1-dev)\n{apr}")
    out_dir = os.path.join(env.server_root, "bin")
    os.makedirs(out_dir, mode=0o755, exist_ok=True)
    so = os.path.join(out_dir, f"{name}.so")
    r = run([cc, *CFLAGS, "-Werror", "-shared", "-fPIC", "-I/usr/include/apache2", *apr.stdout.split(),
             "-o", so, src], timeout=120)
    if r.rc != 0 or not os.path.exists(so):
        raise ClientBuildError(f"cannot build {src} (Debian: apt-get install gcc apache2-dev)\n{r}")
    _built[key] = so
    return so
