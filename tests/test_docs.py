"""Every code sample in README.md and docs/*.md runs as written, and every quoted output is
what the code prints.

A ```python block runs on its own (a fresh namespace, in a temporary directory). When it is
followed directly by a ```text block titled "output" (```` ```text title="output" ````), the
block's standard output must match that text; ``...`` stands for any text (doctest's ELLIPSIS),
so a quoted excerpt may leave parts out. A ```console block holds ``$ command`` lines
(``autograd-nn`` runs as ``python -m autograd_nn``) each followed by its expected output, matched
the same way."""

import contextlib
import doctest
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.S | re.M)
CHECKER = doctest.OutputChecker()


def blocks(page):
    """(language, title, code, expected output or None, line) for every python/console block."""
    found = [(m.group(1), m.group(2), m.group(3), m.start(), m.end())
             for m in FENCE.finditer(page.read_text())]
    text = page.read_text()
    out = []
    for i, (lang, _attrs, body, start, end) in enumerate(found):
        line = text.count("\n", 0, start) + 1
        if lang == "python":
            expected = None
            if i + 1 < len(found):
                nlang, nattrs, nbody, nstart, _ = found[i + 1]
                if nlang == "text" and 'title="output"' in nattrs and \
                        not text[end:nstart].strip():
                    expected = nbody
            out.append(("python", body, expected, line))
        elif lang == "console":
            out.append(("console", body, None, line))
    return out


CASES = [(page, *b) for page in PAGES for b in blocks(page)]
IDS = [f"{page.relative_to(ROOT)}:{line}" for page, _, _, _, line in CASES]


def matches(expected, got):
    return CHECKER.check_output(expected, got, doctest.ELLIPSIS)


def run_python(code, page):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, str(page), "exec"), {"__name__": "__docs__"})
    return buf.getvalue()


def console_steps(body):
    """[(command, expected output)] from ``$ command`` lines and the lines after each."""
    steps = []
    for line in body.splitlines(keepends=True):
        if line.startswith("$ "):
            steps.append([line[2:].strip(), ""])
        elif steps:
            steps[-1][1] += line
    return steps


def run_command(command, cwd):
    argv = shlex.split(command)
    if argv[0] == "autograd-nn":
        argv = [sys.executable, "-m", "autograd_nn", *argv[1:]]
    elif argv[0] == "python":
        argv[0] = sys.executable
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    return done.stdout


@pytest.mark.parametrize("page, lang, body, expected, line", CASES, ids=IDS)
def test_sample_runs_and_prints_what_the_page_says(page, lang, body, expected, line, tmp_path,
                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    if lang == "python":
        got = run_python(body, page)
        if expected is not None:
            assert matches(expected, got), f"{page.name}:{line} prints\n{got}"
        return
    for command, want in console_steps(body):
        got = run_command(command, tmp_path)
        assert matches(want, got), f"{page.name}:{line}: `{command}` prints\n{got}"


def test_pages_have_samples():
    assert sum(1 for c in CASES if c[0].name == "README.md") >= 1
    assert len(CASES) >= 10
