"""The built module: it loads into httpd and exports nothing but its module record."""

import os
import re

from modtls.env import run

# symbols every shared object defines (linker-provided)
LINKER_SYMBOLS = {"_init", "_fini", "__bss_start", "_edata", "_end", "__end__", "__data_start",
                  "_IO_stdin_used"}


def exported_symbols(path):
    r = run(["nm", "-D", "--defined-only", path], timeout=30)
    assert r.rc == 0, str(r)
    names = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            names.append(parts[2].split("@")[0])
    return names


class TestBuild:

    def test_01_module_file_exists(self, env):
        assert os.path.isfile(env.mod_tls_so), f"{env.mod_tls_so} is missing: build the module first"

    def test_01_configtest_loads_module(self, env):
        env.write_config()
        r = env.configtest()
        assert r.rc == 0, str(r)
        assert "Syntax OK" in r.output, str(r)

    def test_01_module_is_listed(self, env):
        env.write_config()
        r = env.apache2("-M")
        assert r.rc == 0, str(r)
        assert re.search(r"^\s*tls_module \(shared\)", r.stdout, re.M), str(r)

    def test_01_only_module_record_exported(self, env):
        # what a version script { global: tls_module; local: *; } leaves
        names = exported_symbols(env.mod_tls_so)
        assert "tls_module" in names
        others = sorted(n for n in names if not n.startswith("_") and n != "tls_module")
        assert others == [], f"exported besides tls_module: {others[:40]}"

    def test_01_no_rust_symbols_exported(self, env):
        # Rust's mangled (_ZN..., _R...) and runtime (__rust_*, rust_*) symbols would clash with any
        # other Rust code in the same httpd process (e.g. a second rustls-based module)
        names = exported_symbols(env.mod_tls_so)
        rust = sorted(n for n in names if n not in LINKER_SYMBOLS
                      and re.match(r"_ZN|_R[A-Z]|__rust|rust_", n))
        assert rust == [], f"Rust symbols exported: {rust[:40]}"

    def test_01_loads_with_all_suite_modules(self, env):
        # the module coexists with everything else the suite loads, mod_ssl included
        env.write_config(mod_ssl=True, modules=["status"])
        r = env.configtest()
        assert r.rc == 0, str(r)

    def test_01_make_install_for_a2enmod(self, env, tmp_path):
        # `make install` puts the module where apxs says modules live and tls.load/tls.conf into
        # mods-available, so that Debian's a2enmod finds them (DESTDIR keeps the system untouched)
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        r = run(["make", "-C", repo, "install", f"DESTDIR={tmp_path}"], timeout=600)
        assert r.rc == 0, str(r)
        libexec = run(["apxs", "-q", "LIBEXECDIR"], timeout=30).stdout.strip()
        sysconf = run(["apxs", "-q", "SYSCONFDIR"], timeout=30).stdout.strip()
        installed = f"{tmp_path}{libexec}/mod_tls.so"
        assert os.path.isfile(installed)
        load = open(f"{tmp_path}{sysconf}/mods-available/tls.load").read()
        assert re.search(rf"^LoadModule tls_module {re.escape(libexec)}/mod_tls.so$", load, re.M), load
        assert os.path.isfile(f"{tmp_path}{sysconf}/mods-available/tls.conf")
