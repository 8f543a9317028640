"""`kill -9` of the local stack at random moments under load, and what each restart must serve.

A round starts the launcher on a DATA_DIR kept across rounds and checks what the earlier rounds were
told: every push acknowledged before the loss window (SNAPSHOT_SECONDS plus the longest save the
launcher logged, infra/snapshot.py) is pulled back byte for byte, every delete acknowledged before it
stays deleted, everything listed reads whole, and a re-push of stored layers works. Then concurrent
skopeo pushes, artifact deletes and a garbage collection run until the launcher is killed with SIGKILL
at a random moment; none of its children may outlive it. The e2e test runs a few tens of rounds, the
soak benchmark (`make bench-crash`) more.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support.images import OCI_MANIFEST, Image, make_image, sha256, write_layout
from tests.support.processes import children, running
from tests.support.stack import ADMIN, Stack, local_stack
from tests.support.waiting import wait_until

_LAYER_SIZES = (2_000, 300_000, 6 * 1024 * 1024)  # the last goes through S3 multipart in one PATCH
_PUSHERS = 2
_TIMEOUT = 120  # per request: a bound for a broken run on a busy machine


@dataclass
class Pushed:
    reference: str  # repository:tag
    image: Image
    acknowledged: float  # time.time() once skopeo had returned 0 (later than the registry's answer)
    deleted: float | None = None  # the same, once a delete of it was answered 200
    deleting: bool = False  # a delete was sent: until it is answered, either outcome is right
    seed: bool = False  # keeps its repository in the catalog: never deleted


@dataclass
class Tally:
    kills: int = 0
    pushes: int = 0
    deletes: int = 0
    pushes_checked: int = 0
    deletes_checked: int = 0
    tags_listed_checked: int = 0
    bytes_verified: int = 0
    repushes: int = 0
    lost_within_window: int = 0  # pushes acknowledged within the loss window that a restart did not keep
    longest_save_seconds: float = 0.0
    lost: list[str] = field(default_factory=list)  # what a restart did not serve as it was told


class CrashRounds:
    def __init__(self, work: Path, snapshot_seconds: float = 2.0, seed: int | None = None) -> None:
        self.work = work
        self.data = work / "data"
        self.snapshot_seconds = snapshot_seconds
        self.random = random.Random(seed)
        self.pushed: list[Pushed] = []
        self.tally = Tally()
        self._lock = threading.Lock()
        self._killed_at = 0.0
        self._window = 0.0

    def run(self, kills: int) -> Tally:
        """`kills` rounds, each checked by the next start; the last start checks and stops."""
        for index in range(kills):
            self.round(index)
        with local_stack(self.work / "last", env_extra=self._environment()) as stack:
            self._check(stack, kills)
        return self.tally

    def _environment(self) -> dict[str, str]:
        return {"DATA_DIR": str(self.data), "SNAPSHOT_SECONDS": str(self.snapshot_seconds),
                "GC_TIME_WINDOW_HOURS": "0", "WORKERS": "2"}

    def round(self, index: int) -> None:
        with local_stack(self.work / f"round-{index}", env_extra=self._environment()) as stack:
            assert stack.process is not None
            self._check(stack, index)
            self._seed_repositories(stack, index)
            stop = threading.Event()
            threads = [threading.Thread(target=self._pushing, args=(stack, index, n, stop))
                       for n in range(_PUSHERS)]
            threads += [threading.Thread(target=self._deleting, args=(stack, stop)),
                        threading.Thread(target=self._collecting, args=(stack, stop))]
            for thread in threads:
                thread.start()
            time.sleep(self.random.uniform(1.0, 3.0 * self.snapshot_seconds))  # the fault's moment, not a wait
            started = list(children(stack.process.pid))
            self._killed_at = time.time()
            stack.process.send_signal(signal.SIGKILL)
            stack.process.wait()
            self.tally.kills += 1
            stop.set()
            for thread in threads:
                thread.join()
            wait_until(lambda: not [pid for pid in started if running(pid)], seconds=300)
            # The bound docs/operations.md states: a save begins every interval (at once after a longer
            # one), and what it cut is on disk when it ends.
            longest = _longest_save(stack.log)
            self._window = max(self.snapshot_seconds, longest) + longest
            self.tally.longest_save_seconds = max(self.tally.longest_save_seconds, longest)

    # What a restart serves -------------------------------------------------------------------------
    def _check(self, stack: Stack, index: int) -> None:
        """What the last kill had to keep is there; what it could lose (told within the window, or not
        told at all) is found out, and from then on it counts as what the restart shows."""
        before = self._killed_at - self._window
        for pushed in list(self.pushed):
            if pushed.deleted is not None and pushed.deleted < before:
                self._expect_deleted(stack, pushed)
            elif pushed.deleted is not None or pushed.deleting:  # a delete the kill may have undone
                if self._present(stack, pushed):
                    pushed.deleted, pushed.deleting = None, False
                    self._expect_whole(stack, pushed)
                else:
                    pushed.deleted, pushed.deleting = 0.0, False
            elif pushed.acknowledged < before:
                self._expect_whole(stack, pushed)
            elif self._present(stack, pushed):  # within the window: kept, so kept for good
                pushed.acknowledged = 0.0
                self._expect_whole(stack, pushed)
            else:
                self.pushed.remove(pushed)
                self.tally.lost_within_window += 1
        self._check_listed(stack)
        kept = [p for p in self.pushed if p.deleted is None]
        if kept:
            self._repush(stack, self.random.choice(kept), index)

    def _present(self, stack: Stack, pushed: Pushed) -> bool:
        repository, _ = pushed.reference.split(":")
        found = _get(stack, f"/v2/{repository}/manifests/{pushed.image.digest}")
        assert found.status_code in (200, 404), found.text
        return found.status_code == 200

    def _expect_whole(self, stack: Stack, pushed: Pushed) -> None:
        repository, tag = pushed.reference.split(":")
        manifest = _get(stack, f"/v2/{repository}/manifests/{tag}")
        if manifest.status_code != 200 or manifest.content != pushed.image.manifest:
            self.tally.lost.append(f"{pushed.reference}: manifest {manifest.status_code}")
            return
        for blob in (pushed.image.config, *pushed.image.layers):
            if not self._blob_reads_whole(stack, repository, sha256(blob)):
                self.tally.lost.append(f"{pushed.reference}: blob {sha256(blob)}")
        self.tally.pushes_checked += 1

    def _expect_deleted(self, stack: Stack, pushed: Pushed) -> None:
        if self._present(stack, pushed):
            self.tally.lost.append(f"{pushed.reference}: deleted, but there again")
        self.tally.deletes_checked += 1

    def _check_listed(self, stack: Stack) -> None:
        """Whatever the registry lists reads whole: no tag without its manifest or blobs."""
        catalog = _get(stack, "/v2/_catalog?n=10000")
        assert catalog.status_code == 200, catalog.text
        for repository in catalog.json()["repositories"]:
            tags = _get(stack, f"/v2/{repository}/tags/list")
            for tag in tags.json().get("tags") or [] if tags.status_code == 200 else []:
                manifest = _get(stack, f"/v2/{repository}/manifests/{tag}")
                if manifest.status_code != 200:
                    self.tally.lost.append(f"{repository}:{tag} listed, manifest {manifest.status_code}")
                    continue
                body = manifest.json()
                for descriptor in [body["config"], *body["layers"]]:
                    if not self._blob_reads_whole(stack, repository, descriptor["digest"]):
                        self.tally.lost.append(f"{repository}:{tag} listed, blob {descriptor['digest']}")
                self.tally.tags_listed_checked += 1

    def _blob_reads_whole(self, stack: Stack, repository: str, digest: str) -> bool:
        found = _get(stack, f"/v2/{repository}/blobs/{digest}")
        if found.status_code != 200 or f"sha256:{hashlib.sha256(found.content).hexdigest()}" != digest:
            return False
        self.tally.bytes_verified += len(found.content)
        return True

    def _repush(self, stack: Stack, pushed: Pushed, index: int) -> None:
        """The same layers pushed again to a new repository: stored bytes are reused, and must be there."""
        reference = f"library/repushed:r{index}"
        if not _skopeo_push(stack, _layout(self.work, pushed.image), pushed.image, reference):
            self.tally.lost.append(f"{reference}: a re-push of {pushed.reference} failed")
            return
        self._expect_whole(stack, Pushed(reference, pushed.image, time.time()))
        self.tally.repushes += 1

    def _seed_repositories(self, stack: Stack, index: int) -> None:
        """Each pusher's repository is in the catalog before a garbage collection can start. A layer
        uploaded into a repository that has no manifest yet, before a run starts, while the manifest
        comes during it, is collected under an acknowledged push: a defect of garbage collection, not
        of persistence (docs/operations.md, "Garbage collection"), kept out of this test's way."""
        listed = set(_get(stack, "/v2/_catalog?n=10000").json()["repositories"])
        for pusher in range(_PUSHERS):
            repository = f"library/p{pusher}"
            if repository not in listed:
                image = make_image(f"seed-r{index}-p{pusher}", 1000)
                assert _skopeo_push(stack, _layout(self.work, image), image, f"{repository}:seed-r{index}")
                self.pushed.append(Pushed(f"{repository}:seed-r{index}", image, time.time(), seed=True))

    # The load the kill interrupts ------------------------------------------------------------------
    def _pushing(self, stack: Stack, index: int, pusher: int, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            image = make_image(f"r{index}-p{pusher}-{n}", self.random.choice(_LAYER_SIZES))
            reference = f"library/p{pusher}:r{index}-{n}"
            if _skopeo_push(stack, _layout(self.work, image), image, reference) and not stop.is_set():
                with self._lock:
                    self.pushed.append(Pushed(reference, image, time.time()))
                    self.tally.pushes += 1
            n += 1

    def _deleting(self, stack: Stack, stop: threading.Event) -> None:
        while not stop.wait(self.random.uniform(0.2, 1.0)):
            with self._lock:
                candidates = [p for p in self.pushed if p.deleted is None and not p.deleting and not p.seed]
                if len(candidates) < 4:
                    continue
                victim = self.random.choice(candidates)
                victim.deleting = True
            repository, _ = victim.reference.split(":")
            project, name = repository.split("/", 1)
            try:
                answer = requests.delete(f"{stack.url}/api/v2.0/projects/{project}/repositories/{name}/artifacts/"
                                         f"{victim.image.digest}", auth=ADMIN, timeout=_TIMEOUT)
            except requests.RequestException:
                continue  # killed meanwhile: either outcome is right, and it stays `deleting`
            if answer.status_code == 200 and not stop.is_set():
                victim.deleted, victim.deleting = time.time(), False
                self.tally.deletes += 1

    def _collecting(self, stack: Stack, stop: threading.Event) -> None:
        if stop.wait(self.random.uniform(0.0, 2.0)):
            return
        try:
            answer = requests.post(f"{stack.url}/api/v2.0/system/gc/schedule", auth=ADMIN, timeout=_TIMEOUT,
                                   json={"schedule": {"type": "Manual"}, "parameters": {"delete_untagged": True}})
        except requests.RequestException:
            return
        # A collection interrupted by an earlier kill must not block this one (409 would say it did).
        if answer.status_code not in (201,) and not stop.is_set():
            self.tally.lost.append(f"garbage collection refused: {answer.status_code} {answer.text[:200]}")


def _get(stack: Stack, path: str) -> requests.Response:
    return requests.get(f"{stack.url}{path}", auth=ADMIN, timeout=_TIMEOUT, headers={"Accept": OCI_MANIFEST})


def _layout(work: Path, image: Image) -> Path:
    return work / "layouts" / image.digest.split(":")[1]  # no colon: skopeo's oci: reference splits there


def _skopeo_push(stack: Stack, layout: Path, image: Image, reference: str) -> bool:
    if not layout.exists():
        write_layout(layout, {"t": image})
    result = subprocess.run(["skopeo", "copy", "--retry-times", "0", "--dest-tls-verify=false", "--dest-creds",
                             ":".join(ADMIN), f"oci:{layout}:t", f"docker://{stack.host}/{reference}"],
                            capture_output=True, timeout=600)
    return result.returncode == 0


def _longest_save(log: Path) -> float:
    """The longest save the launcher logged (infra/snapshot.py: "local state saved")."""
    longest = 0.0
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"local state saved"' in line:
            longest = max(longest, float(json.loads(line).get("seconds", 0)))
    return longest


def summary(tally: Tally) -> str:
    return (f"kills {tally.kills}, pushes {tally.pushes} (checked {tally.pushes_checked}), deletes {tally.deletes} "
            f"(checked {tally.deletes_checked}), listed tags checked {tally.tags_listed_checked}, "
            f"re-pushes {tally.repushes}, pushes lost within the window {tally.lost_within_window}, "
            f"bytes verified {tally.bytes_verified:,}, longest save {tally.longest_save_seconds:.3f} s, "
            f"lost {len(tally.lost)}" + os.linesep.join(["", *tally.lost]))
