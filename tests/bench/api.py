"""Harbor API benchmarks: handler latency and AWS calls of list-projects, get-artifact-by-digest and
list-audit-logs with 1,000 projects and 100,000 audit records (in process, moto)."""

from __future__ import annotations

import time
from collections import Counter

from chalicelib import projects
from chalicelib.store import audit as log
from chalicelib.store import metadata
from tests.bench.measure import InProcessClient, in_process_stack, measure, print_header
from tests.support.images import make_image
from tests.support.oci import push_image

PROJECTS = 1_000
AUDIT_RECORDS = 100_000
ROUNDS = 5  # the emulator's Query time grows with the table; 'own p50' is what our code costs


def _seed(client: InProcessClient) -> str:
    started = time.perf_counter()
    for index in range(PROJECTS - 1):  # `library` is the thousandth
        projects.create_project(f"project-{index:04d}", owner_id=1, owner_name="admin", public=index % 2 == 0)
    image = make_image("api-bench")
    push_image(client, "library/app", "v1", image)
    counts: Counter[tuple[str, str]] = Counter()
    by_name = {p.name: p for p in projects.iter_projects()}
    for start in range(0, AUDIT_RECORDS, 5_000):  # bulk-load what log.record writes one by one
        batch = []
        for index in range(start, start + 5_000):
            project = by_name["library" if index % 10 == 0 else f"project-{index % 100:04d}"]
            batch.append(log.entry(project, ("pull", "create", "delete")[index % 3], "artifact",
                                   f"{project.name}/app:v{index}", "admin"))
            counts[log.counter_key(batch[-1])] += 1
        metadata.batch_put(batch)
    metadata.batch_put({"PK": pk, "SK": sk, "records": n} for (pk, sk), n in counts.items())
    print(f"seeded {PROJECTS} projects and {AUDIT_RECORDS} audit records in {time.perf_counter() - started:.0f} s")
    return image.digest


def api_costs() -> None:
    print("\n== Harbor API: AWS calls and handler latency (in process, moto) ==")
    with in_process_stack() as gw:
        admin = InProcessClient(gw)
        digest = _seed(admin)
        print_header()
        steps = [
            ("list projects, page 1", "/api/v2.0/projects?page=1&page_size=10"),
            ("list projects, page 50", "/api/v2.0/projects?page=50&page_size=10"),
            ("get artifact by digest", f"/api/v2.0/projects/library/repositories/app/artifacts/{digest}"),
            ("list audit logs, page 1", "/api/v2.0/audit-logs?page=1&page_size=10"),
            ("list project logs, page 1", "/api/v2.0/projects/library/logs?page=1&page_size=10"),
        ]
        for label, path in steps:
            measure(admin, label, "GET", path, ROUNDS, expected=(200,))
        # Not measured here: a filtered audit list (q=...) reads every record to count its matches, which
        # under moto takes tens of minutes at this size (docs/operations.md).
