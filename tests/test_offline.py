"""The app in a network namespace with no route out (`unshare -n`): it starts and answers, so
nothing it does at start-up or per question needs the network."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

INSIDE = textwrap.dedent(
    """
    import os, socket, subprocess, sys, time, urllib.request
    from gradio_client import Client

    with socket.socket() as probe:  # prove the namespace has no way out
        probe.settimeout(3)
        try:
            probe.connect(("1.1.1.1", 443))
            sys.exit("the namespace reached the internet")
        except OSError as error:
            print("no route out:", error.strerror, flush=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = subprocess.Popen([sys.executable, "app.py", "--index", sys.argv[1], "--port", str(port)],
                           env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                if app.poll() is not None:
                    sys.exit("the app exited")
                time.sleep(0.2)
        reply = Client(url, verbose=False).predict("Where will the SCO summit be held in 2018?", 3, "hybrid",
                                                   api_name="/search")
        print("first:", reply["hits"][0]["passage_id"], flush=True)
    finally:
        app.terminate()
        app.wait(timeout=30)
    """
)


@pytest.mark.model
@pytest.mark.app
def test_the_app_starts_and_answers_with_no_network_at_all(bundled_index_dir):
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip (util-linux, iproute2)")
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("this machine does not allow a new network namespace (unshare -n needs privileges)")
    done = subprocess.run(
        [
            "unshare",
            "-n",
            "sh",
            "-c",
            'ip link set lo up && exec "$0" -c "$1" "$2"',
            sys.executable,
            INSIDE,
            str(bundled_index_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no route out: Network is unreachable" in done.stdout
    assert "first: sco-alimov-tass-2017:15:1" in done.stdout
