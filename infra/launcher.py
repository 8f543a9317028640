"""`make run`: the whole registry in one foreground process, no Docker, no cloud account.

1. starts the AWS emulator (moto server) unless AWS_ENDPOINT_URL names one (e.g. LocalStack);
2. creates the tables and buckets of infra/template.yaml and gives the app APIHandler's environment;
   starts a redis-server of its own on a private port for the cache, unless REDIS_URL names one (or
   --no-cache);
3. bootstraps the signing key, `admin`, the public project `library` and the built-in Trivy scanner,
   and puts trivy's DB into S3 (the offline DB in infra/trivy-db unless TRIVY_DB_SOURCE says otherwise);
4. runs the template's functions in this process: their SQS event sources are polled (scan jobs,
   pulls; the queued pulls are written once more at stop), schedules fired, and the emulator's
   state machines (CVE export) call them in-process;
5. serves the Chalice app through the local API Gateway, in one worker process per core on a shared
   listening socket (infra/api_worker.py), until Ctrl-C or SIGTERM; then lets requests in flight
   finish (a few seconds), saves the state and exits.
The embedded emulator's state is restored from DATA_DIR at start and saved there as it changes
(infra/snapshot.py). The launcher supervises its children: a worker or the redis-server that dies is
started again, and none outlives the launcher (infra/children.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
from pathlib import Path

from infra.api_worker import ApiWorkers
from infra.cache_server import RedisServer
from infra.children import StopSignals

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 5.0  # how long requests in flight may take to finish when the launcher stops


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--emulator-port", type=int, default=int(os.environ.get("EMULATOR_PORT", "4566")))
    parser.add_argument("--enforce-aws-limits", action="store_true",
                        default=_flag("ENFORCE_AWS_LIMITS"),
                        help="apply API Gateway/Lambda limits: 6 MB payloads (413), 29 s timeout (504)")
    parser.add_argument("--instances", type=int, default=4, help="concurrent 'Lambda instances' per worker")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "0")) or os.cpu_count() or 1,
                        help="API worker processes (default: one per core)")
    parser.add_argument("--data-dir", default=os.environ.get("DATA_DIR", str(ROOT / ".data")),
                        help="where the embedded emulator's state is kept between runs (infra/snapshot.py)")
    parser.add_argument("--snapshot-seconds", type=float, default=float(os.environ.get("SNAPSHOT_SECONDS", "5")),
                        help="how often changed state is saved (what a kill -9 can lose)")
    parser.add_argument("--tls", action="store_true", default=_flag("TLS"),
                        help="also serve HTTPS (self-signed certificate) on the same port")
    parser.add_argument("--no-cache", action="store_true", default=_flag("NO_CACHE"),
                        help="run without the cache (Redis): every read goes to the table")
    return parser.parse_args(argv)


def _local_defaults() -> None:
    # Credentials only matter to the emulator; tracing and metrics are no-ops off Lambda.
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true",
                        "HARBOR_ADMIN_PASSWORD": "Harbor12345",  # a deployment generates one instead
                        "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_DEV": "false",
                        # Object bytes above 64 KiB live in the emulator's temporary files, not in memory.
                        "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(64 * 1024)}.items():
        os.environ.setdefault(name, value)


def _cache_server(args: argparse.Namespace, named: str) -> RedisServer | None:
    """A redis-server of our own for the cache, unless one is named (REDIS_URL) or the cache is off.
    Nothing is saved: a new server starts a new cache epoch (chalicelib/store/cache.py), and nothing but
    cached reads lives only in it."""
    os.environ["REDIS_URL"] = "" if args.no_cache else named
    if args.no_cache or named:
        return None
    server = RedisServer(Path(args.data_dir) / "redis")
    server.start()
    os.environ["REDIS_URL"] = server.url
    print(f"Cache: redis-server on {server.url}", flush=True)
    return server


def _supervise(workers: ApiWorkers, cache: RedisServer | None, signals: StopSignals) -> None:
    """Until a stop is asked for: a worker that died is replaced (as Lambda replaces an instance), and the
    redis-server started again on its port (as ElastiCache replaces a node; the cache then starts a new
    epoch)."""
    while not signals.wait(1):
        workers.replace_exited()
        if cache and cache.exited():
            print("Cache: redis-server exited: starting it again", flush=True)
            try:
                cache.start()
            except RuntimeError as error:  # tried again in a second; the table answers meanwhile
                print(f"Cache: {error}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    _local_defaults()
    emulator = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        from infra import emulator as emulation

        emulation.behave_as_aws()  # atomic DynamoDB, thread-safe S3, bounded costs, freed memory
        emulation.track_changes()  # snapshots are taken only after writes
        # State machines run for real (moto's ASL interpreter); their Lambda tasks reach our handlers.
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log is noise
        os.environ["MOTO_PORT"] = str(args.emulator_port)
        emulator = ThreadedMotoServer(ip_address=args.host, port=args.emulator_port, verbose=False)
        emulator.start()
        os.environ["AWS_ENDPOINT_URL"] = f"http://{args.host}:{args.emulator_port}"
    sys.path.insert(0, str(ROOT))
    named_cache = os.environ.get("REDIS_URL", "")
    os.environ.setdefault("TRIVY_DB_SOURCE", str(ROOT / "infra" / "trivy-db"))
    from chalicelib import bootstrap
    from chalicelib.scan import trivy
    from infra import functions, resources, snapshot, tls

    context = resources.local_context(os.environ["AWS_DEFAULT_REGION"])
    resources.create_all(context)
    os.environ.update(context.environment())
    cache = _cache_server(args, named_cache)
    stop = threading.Event()
    snapshots = None
    if emulator:  # an emulator of our own keeps its state in DATA_DIR (LocalStack or AWS keep their own)
        snapshots = snapshot.Snapshots(context, Path(args.data_dir))
        restored = snapshots.restore()
        print(f"State in {args.data_dir} ({'restored' if restored else 'new'})", flush=True)
    bootstrap.run()
    trivy.refresh_db()
    local = functions.LocalFunctions(context)
    if emulator:
        local.dispatch_lambda_invocations()
    local.start(stop)
    if snapshots:
        os.environ["PERSISTENCE_STATUS_FILE"] = str(snapshots.status_file)  # read by /health in the workers
        snapshots.save_reporting()
        snapshots.run_every(args.snapshot_seconds, stop)
    listener = socket.create_server((args.host, args.port), backlog=1024)
    port = listener.getsockname()[1]
    options = ["--instances", str(args.instances), "--grace-seconds", str(GRACE_SECONDS)]
    options += ["--enforce-aws-limits"] if args.enforce_aws_limits else []
    if args.tls:
        cert, key = tls.self_signed_certificate(args.host)
        options += ["--tls-cert", str(cert), "--tls-key", str(key)]
    workers = ApiWorkers(listener, args.workers, options)
    workers.start()
    url = f"{'https' if args.tls else 'http'}://{args.host}:{port}"
    print(f"Registry ready at {url}  (AWS endpoint {os.environ['AWS_ENDPOINT_URL']})", flush=True)
    print(f"  user admin, password {os.environ['HARBOR_ADMIN_PASSWORD']} (on first start)", flush=True)
    print(f"  try: skopeo copy --dest-tls-verify=false --dest-creds admin:<password> "
          f"oci:<dir> docker://{args.host}:{port}/library/<image>:<tag>", flush=True)
    # Both stop it, even when started from a background job (which starts with SIGINT ignored).
    _supervise(workers, cache, StopSignals())
    stop.set()
    workers.stop(GRACE_SECONDS)  # no new requests; those in flight get a few seconds to be answered
    local.deliver_all("PullRecorderFunction")  # the queued pulls: the emulator's queues are not saved
    if snapshots:
        snapshots.save_reporting()
    if cache:
        cache.stop()
    print("stopped", flush=True)
    # Leave at once: the interpreter's teardown of the emulator's in-memory state takes minutes, and
    # every thread left is a daemon of ours whose work is saved or answered.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
