"""A short soak on loopback: many clients asking the running app at once, none may fail.
(The full 50 clients x 60 s run, with latency and memory, is `make bench-soak`.)"""

import sys
from pathlib import Path

import pytest
from test_app import server  # noqa: F401  (the running-app fixture)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))


@pytest.mark.model
@pytest.mark.app
@pytest.mark.slow
def test_twenty_clients_for_ten_seconds_get_every_answer(server):  # noqa: F811
    from soak import soak

    report = soak(server, None, clients=20, seconds=10)
    assert report["errors"] == 0, report["first_errors"]
    # every client asked and was answered, and the load stopped by itself (soak returned)
    assert report["clients_answered"] == 20 and report["requests"] >= 20
