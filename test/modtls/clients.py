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


def _compile(env, key: str, src: str, out_name: str, args, hint: str) -> str:
    """Compile `src` with `args` (a list around the placeholder "{out}") into env's
    SERVER_ROOT/bin/OUT_NAME once per session; raises ClientBuildError naming `hint`."""
    cache = (env.server_root, key)
    out = _built.get(cache)
    if out and os.path.exists(out):
        return out
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise ClientBuildError(f"no C compiler (cc) to build {src}")
    out_dir = os.path.join(env.server_root, "bin")
    os.makedirs(out_dir, mode=0o755, exist_ok=True)
    out = os.path.join(out_dir, out_name)
    r = run([cc, *CFLAGS, *[out if a == "{out}" else a for a in args]], timeout=120)
    if r.rc != 0 or not os.path.exists(out):
        raise ClientBuildError(f"cannot build {src} (Debian: apt-get install {hint})\n{r}")
    _built[cache] = out
    return out


def c_client(env, name: str) -> str:
    """The executable of test/clients/NAME.c, compiled into env's SERVER_ROOT/bin on first use."""
    src = os.path.join(CLIENTS_DIR, f"{name}.c")
    return _compile(env, name, src, name, ["-o", "{out}", src, *LIBS], "gcc libssl-dev")


MODULES_DIR = os.path.join(os.path.dirname(CLIENTS_DIR), "modules")


def c_module(env, name: str) -> str:
    """The shared object of the test-only httpd module test/modules/NAME.c, compiled into env's
    SERVER_ROOT/bin on first use (warnings are errors); a build failure fails the test."""
    src = os.path.join(MODULES_DIR, f"{name}.c")
    apr = run(["apr-1-config", "--includes", "--cppflags"], timeout=30)
    if apr.rc != 0:
        raise ClientBuildError(f"apr-1-config failed (Debian: apt-get install libapr1-dev)\n{apr}")
    return _compile(env, f"module:{name}", src, f"{name}.so",
                    ["-Werror", "-shared", "-fPIC", "-I/usr/include/apache2", *apr.stdout.split(), "-o", "{out}",
                     src], "gcc apache2-dev")
