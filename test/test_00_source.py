"""Checks on the source tree itself: log tags, docs that must not drift from the code, and
rtls.h, which cbindgen generates from the Rust crate."""

import difflib
import os
import re
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(REPO, "src")
RTLS_H = os.path.join(REPO, "rtls", "include", "rtls.h")

LOG_CALL = re.compile(r"\bap_log_(?:c|r|p)?error\s*\(")


def c_sources():
    for name in sorted(os.listdir(SRC)):
        if name.endswith(".c"):
            with open(os.path.join(SRC, name)) as f:
                yield name, f.read()


def log_calls(text):
    """The text of each ap_log_*error(...) call (up to its closing parenthesis)."""
    for m in LOG_CALL.finditer(text):
        depth, i = 0, m.end() - 1
        while i < len(text):
            if text[i] == "(":
                depth += 1
            elif text[i] == ")":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        yield text[m.start():i + 1]


class TestLogTags:

    def test_00_every_log_call_is_tagged(self):
        untagged = []
        for name, text in c_sources():
            for call in log_calls(text):
                if "TLS_LOGNO(" not in call:
                    untagged.append(f"{name}: {call[:100]}")
        assert untagged == [], "\n".join(untagged)

    def test_00_log_tags_are_unique(self):
        seen = {}
        dups = []
        for name, text in c_sources():
            for num in re.findall(r"TLS_LOGNO\((\d{4})\)", text):
                if num in seen:
                    dups.append(f"MTLS{num} in {seen[num]} and {name}")
                seen[num] = name
        assert seen, "no tagged log lines found"
        assert dups == [], "\n".join(dups)


# APR headers define APR_OFFSETOF, used by every APR_RING/APR_BRIGADE macro, as offsetof() only
# when <stddef.h> came first; otherwise as arithmetic on a NULL pointer (undefined behaviour: the
# sanitizer build's UBSan stopped tls_filter.c on its first brigade)
RING_MACRO = re.compile(r"\bAPR_(?:RING|BRIGADE|BUCKET)_[A-Z_]+\s*\(")
FIRST_APR_INCLUDE = re.compile(r"^#include\s*<(?:apr|apu|httpd|http_|util_|ap_)", re.M)


class TestIncludes:

    def test_00_stddef_before_apr_where_rings_are_used(self):
        wrong = []
        for name, text in c_sources():
            if not RING_MACRO.search(text):
                continue
            first_apr = FIRST_APR_INCLUDE.search(text)
            stddef = re.search(r"^#include\s*<stddef\.h>", text, re.M)
            if first_apr and (not stddef or stddef.start() > first_apr.start()):
                wrong.append(name)
        assert wrong == [], f"include <stddef.h> before any APR/httpd header in: {wrong}"


def directives_in_code():
    """Directive name -> help text, from the AP_INIT_* lines of src/*.c."""
    found = {}
    for _, text in c_sources():
        for m in re.finditer(r'AP_INIT_\w+\(\s*"(\w+)"\s*,[^,]*,[^,]*,[^,]*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)',
                             text):
            found[m.group(1)] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
    return found


def directives_in_readme():
    """Directive name -> default column, from the README's directive table."""
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    rows = {}
    for m in re.finditer(r"^\| `(TLS\w+)[^`]*` \|[^|]*\| ([^|]*) \|", text, re.M):
        rows[m.group(1)] = m.group(2).strip().strip("`")
    return rows


class TestDocs:

    def test_00_readme_lists_every_directive(self):
        code, readme = directives_in_code(), directives_in_readme()
        assert code, "no directives found in src/"
        aliases = {n: h for n, h in code.items() if h.startswith("alias of ")}
        main = sorted(n for n in code if n not in aliases)
        assert main == sorted(readme), f"code: {main}\nREADME: {sorted(readme)}"
        with open(os.path.join(REPO, "README.md")) as f:
            text = f.read()
        for alias, help_text in aliases.items():
            target = help_text[len("alias of "):]
            assert target in readme, f"{alias} is an alias of unknown {target}"
            assert f"Alias: `{alias}`" in text, f"README does not mention the alias {alias}"

    def test_00_defaults_agree(self):
        # where the directive's help text states a default, the README says the same
        code, readme = directives_in_code(), directives_in_readme()
        for name, help_text in code.items():
            m = re.search(r"\(default (\w+)\)", help_text)
            if m:
                assert readme.get(name) == m.group(1), f"{name}: help says {m.group(1)}, README {readme.get(name)}"


def cbindgen_rtls_h(out):
    """Run cbindgen as `make header` does, writing to `out`."""
    # Keep in step with the Makefile's header target (see rtls/cbindgen.toml for why lib.rs).
    return subprocess.run(["cbindgen", "--quiet", "--config", "rtls/cbindgen.toml", "--output", str(out),
                           "rtls/src/lib.rs"], cwd=REPO, capture_output=True, text=True)


class TestRtlsHeader:

    def test_00_rtls_h_is_what_cbindgen_generates(self, tmp_path):
        assert shutil.which("cbindgen"), \
            "cbindgen is not installed (Debian package cbindgen; scripts/test.sh installs it as root)"
        out = tmp_path / "rtls.h"
        run = cbindgen_rtls_h(out)
        assert run.returncode == 0 and out.exists(), f"cbindgen failed:\n{run.stdout}{run.stderr}"
        generated = out.read_bytes()
        with open(RTLS_H, "rb") as f:
            committed = f.read()
        if committed == generated:
            return
        msg = "rtls/include/rtls.h is not what cbindgen generates from rtls/src: run `make header`"
        made_with = re.search(rb"Generated with cbindgen:(\S+) ", committed)
        made_with = made_with.group(1).decode() if made_with else "?"
        installed = (subprocess.run(["cbindgen", "--version"], capture_output=True, text=True).stdout.split()
                     or ["?"])[-1]
        if made_with != installed:
            msg += (f" (note: the committed header was made by cbindgen {made_with}, this is {installed}, "
                    f"which may format it differently: regenerate it with the cbindgen of the project's "
                    f"CI machines, Debian's package)")
        diff = difflib.unified_diff(committed.decode(errors="replace").splitlines(),
                                    generated.decode(errors="replace").splitlines(),
                                    "rtls/include/rtls.h (committed)", "cbindgen output", lineterm="", n=1)
        pytest.fail(msg + "\n" + "\n".join(list(diff)[:80]), pytrace=False)

    def test_00_rtls_h_names_the_locked_rustls(self):
        # the preamble (rtls/cbindgen.toml) names the rustls version in words
        with open(os.path.join(REPO, "rtls", "Cargo.lock")) as f:
            locked = re.search(r'name = "rustls"\nversion = "([^"]+)"', f.read()).group(1)
        with open(RTLS_H) as f:
            named = re.search(r"to reach rustls \(([^)]+)\)", f.read())
        assert named and named.group(1) == locked, \
            f"rtls.h's preamble (rtls/cbindgen.toml) names rustls {named and named.group(1)}, Cargo.lock has {locked}"
