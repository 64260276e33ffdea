"""/metrics under real gunicorn with two workers: every worker's requests add up."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import ROOT, LiveGunicorn, live_gunicorn

RESPONSES = "django_http_responses_total_by_status_view_method_total"
CONFIG = ROOT / "config" / "gunicorn.py"  # the production configuration, with its hooks


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left by an earlier run")
    return folder


@pytest.fixture
def gunicorn(tmp_path: Path, metrics_dir: Path) -> Iterator[LiveGunicorn]:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # the 404s below need no table
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    with live_gunicorn(env=env, workers=2, config=CONFIG) as server:
        yield server


def _not_found(families: object) -> float:
    return sum(
        sample.value
        for family in families  # type: ignore[attr-defined]
        for sample in family.samples
        if sample.name == RESPONSES and sample.labels.get("status") == "404"
    )


def _not_found_by_worker(metrics_dir: Path, pid: int) -> float:
    files = [str(f) for f in metrics_dir.glob(f"counter_{pid}.db")]
    return _not_found(MultiProcessCollector.merge(files)) if files else 0


def test_metrics_add_up_the_requests_of_every_worker(
    gunicorn: LiveGunicorn, metrics_dir: Path
) -> None:
    assert not (metrics_dir / "counter_999999.db").exists()  # emptied at start
    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _batch in range(25):  # bounded: both workers answer long before
            statuses = list(
                pool.map(lambda _: gunicorn.request("/api/no-such-page/")[0], range(40))
            )
            assert set(statuses) == {404}
            sent += len(statuses)
            if all(_not_found_by_worker(metrics_dir, pid) for pid in gunicorn.workers):
                break
    per_worker = [_not_found_by_worker(metrics_dir, pid) for pid in gunicorn.workers]

    status, body = gunicorn.request("/metrics")

    assert status == 200
    assert all(count > 0 for count in per_worker), per_worker
    assert _not_found(text_string_to_metric_families(body.decode())) == sum(per_worker) == sent
