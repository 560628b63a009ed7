"""The README's HTTP examples and the /docs page's examples, pasted into a shell against a running
``matchmaker serve --demo`` (the hashing encoder, a SQLite file): every curl command answers 2xx (the docs' error
examples the status they show), so what the README and /docs document exists and works."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from test_service_gunicorn import _start, _stop, _wait_ready

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def _blocks(section: str) -> str:
    """The ```bash blocks holding curl commands between the README heading ``section`` and the next one."""
    text = (ROOT / "README.md").read_text()
    start = text.index(section)
    end = text.find("\n## ", start + len(section))
    blocks = [b for b in re.findall(r"```bash\n(.*?)```", text[start:end], re.S) if "curl " in b]
    assert blocks, section
    return "\n".join(blocks)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readme")
    proc, base, log = _start(tmp, "--demo", "--workers", "1")
    out = (tmp / "server.log").read_text()
    key = re.search(r"Demo tenant key: (mm_[\w-]+)", out).group(1)
    _wait_ready(base)
    yield base, key
    _stop(proc, log)


def _bash(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_readme_http_examples_work_when_pasted(demo):
    base, key = demo
    block = _blocks("## HTTP service")
    assert "KEY=mm_..." in block and "BASE=http://127.0.0.1:8000/v1" in block
    block = block.replace("KEY=mm_...", f"KEY={key}").replace("BASE=http://127.0.0.1:8000/v1", f"BASE={base}/v1")
    n = block.count("curl -s")
    assert n >= 8
    # each curl fails (exit 22) on an HTTP error; its body is printed either way
    script = "set -euo pipefail\ncurl() { command curl --fail-with-body \"$@\"; echo; }\n" + block
    r = _bash(script)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    assert len(lines) == n - 1  # the job's submission is captured in $JOB, not printed
    assert '"matches"' in lines[0] and '"lists"' in lines[1] and '"recorded"' in lines[2]
    assert json.loads(lines[5])["upserted"] == 8 and json.loads(lines[6])["updated"] == 8  # the CSV, twice
    page = json.loads(lines[7])
    assert len(page["attendees"]) == 100 and page["attendees"][0]["goals"] and page["next"]
    job = json.loads(lines[-1])
    assert job["kind"] == "attendee-upsert" and job["status"] == "done" and job["result"]["created"] == 1


def test_docs_examples_work_when_pasted(demo, tmp_path):
    from service.app import create_app
    from service.docs import run_examples

    base, key = demo
    tmp_body = tmp_path
    job = ""
    for ex in run_examples(create_app):
        if "$JOB" in ex["curl"]:
            time.sleep(1.0)  # let the job finish, as a client honouring Retry-After would
        script = f"KEY={key}\nBASE={base}\nJOB={job}\n" + ex["curl"] + " -o body.json -w '%{http_code}'"
        r = subprocess.run(["bash", "-c", script], cwd=tmp_body, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and r.stdout == str(ex["status"]), (ex["title"], r.stdout, r.stderr)
        if r.stdout == "202":
            job = json.loads((tmp_body / "body.json").read_text())["id"]
    assert job
