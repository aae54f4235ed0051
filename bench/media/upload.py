"""`python -m bench.media.upload`: N concurrent phone-size JPEG uploads against gunicorn.

Reports, from one run on one machine:
- upload throughput (MB/s of photo bytes accepted) next to the raw disk write speed of the same
  filesystem, measured in the same run (buffered, and with fsync per file as the store does);
- the API's memory: RSS of each gunicorn worker sampled every 20 ms, baseline after a warm-up
  upload and peak during the run (the target: growth < 64 MB whatever the file size);
- upload → thumbnail ready: from the moment the client starts sending to `processed_at` in the
  database, p50/p99/max, with the RQ `media` worker running beside the API.

A throwaway database on DATABASE_URL's server (bench.routing.harness), VAR_DIR in a temp directory.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
from PIL import Image

from app.settings import PROJECT_ROOT
from bench.routing.harness import create_tenant, throwaway_app

PASSWORD = "Bench-pass-1"


def phone_jpeg(path: Path, target_mb: float, seed: int) -> int:
    """A 12 MP (4000×3000) baseline JPEG near `target_mb`, like a phone's: noise upscaled for texture."""
    rng = random.Random(seed)
    width, height = 4000, 3000
    scale = 3 if target_mb <= 6 else 2
    small = Image.frombytes("RGB", (width // scale, height // scale),
                            rng.randbytes((width // scale) * (height // scale) * 3))
    image = small.resize((width, height), Image.Resampling.BILINEAR)
    quality = 92
    while True:
        image.save(path, "JPEG", quality=quality)
        size = path.stat().st_size
        if size <= target_mb * 1_050_000 or quality <= 60:
            return size
        quality -= 4


def disk_speed(directory: Path, files: int, size: int) -> dict:
    """Raw write speed of the filesystem under `directory`: buffered, and fsync per file."""
    block = os.urandom(1024 * 1024)
    results = {}
    for label, sync in (("buffered", False), ("fsync_per_file", True)):
        started = time.perf_counter()
        for n in range(files):
            target = directory / f"disk-{label}-{n}"
            with open(target, "wb") as out:
                written = 0
                while written < size:
                    out.write(block[: min(len(block), size - written)])
                    written += min(len(block), size - written)
                if sync:
                    out.flush()
                    os.fsync(out.fileno())
        elapsed = time.perf_counter() - started
        results[label] = files * size / elapsed / 1e6
        for n in range(files):
            (directory / f"disk-{label}-{n}").unlink()
    return results


class RssSampler(threading.Thread):
    def __init__(self, master_pid: int):
        super().__init__(daemon=True)
        self.master = psutil.Process(master_pid)
        self.peak: dict[int, int] = {}
        self.peak_total = 0
        self.running = True

    def sample(self) -> dict[int, int]:
        found = {}
        for child in self.master.children(recursive=True):
            try:
                found[child.pid] = child.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return found

    def run(self):
        while self.running:
            now = self.sample()
            for pid, rss in now.items():
                self.peak[pid] = max(self.peak.get(pid, 0), rss)
            self.peak_total = max(self.peak_total, sum(now.values()))
            time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--size-mb", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    args = parser.parse_args()

    with throwaway_app("bench_media") as app:
        from app.blueprints.users import service as users
        from app.extensions import db
        from app.tenants.context import tenant_scope
        from app.tenants.models import Tenant

        tenant_id = create_tenant(app)
        with app.app_context(), tenant_scope([tenant_id], is_platform=True):
            users.create_user(tenant=db.session.get(Tenant, tenant_id), actor=None, username="bench.crew",
                              display_name="bench", password=PASSWORD, roles=["dispatcher"], unit_id=None,
                              province_code=None)
        var_dir = Path(os.environ["VAR_DIR"])
        photos_dir = Path(tempfile.mkdtemp(prefix="bench-photos-"))
        print(f"making {args.uploads} distinct {args.size_mb} MB photos ...", flush=True)
        photos = [photos_dir / f"p{n}.jpg" for n in range(args.uploads + 1)]
        sizes = [phone_jpeg(path, args.size_mb, n) for n, path in enumerate(photos)]
        disk = disk_speed(var_dir, args.uploads, int(statistics.mean(sizes)))

        port = _free_port()
        env = {**os.environ, "LOG_LEVEL": "WARNING"}
        api = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
                                str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
                                "--timeout", "120", "wsgi:app"], cwd=PROJECT_ROOT, env=env)
        worker = subprocess.Popen([sys.executable, "-m", "worker"], cwd=PROJECT_ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=5).status_code < 500:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start")
                time.sleep(0.2)
            session = requests.Session()
            token = session.post(f"{base}/api/v1/auth/login", json={"username": "bench.crew",
                                                                     "password": PASSWORD}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            url = f"{base}/api/v1/t/620602/media"

            def send(path: Path) -> tuple[str, float, float, int]:
                media_id = str(uuid.uuid4())
                started = time.time()
                with open(path, "rb") as handle:
                    response = requests.post(url, headers=headers, data={"id": media_id},
                                             files={"file": (path.name, handle, "image/jpeg")}, timeout=300)
                assert response.status_code == 201, response.text[:300]
                return media_id, started, time.time(), path.stat().st_size

            send(photos[-1])  # warm-up: imports, connections, first decode
            time.sleep(1.0)
            sampler = RssSampler(api.pid)
            baseline = sampler.sample()
            sampler.start()
            run_started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.uploads) as pool:
                results = list(pool.map(send, photos[:-1]))
            wall = time.perf_counter() - run_started
            sampler.running = False
            sampler.join()

            from sqlalchemy import text
            deadline = time.monotonic() + 600
            with app.app_context(), tenant_scope([tenant_id]):
                while True:
                    rows = dict(db.session.execute(text(
                        "SELECT i.id::text, extract(epoch FROM b.processed_at) FROM media_items i JOIN media_blobs b "
                        "ON b.tenant_id = i.tenant_id AND b.sha256 = i.sha256 WHERE b.state = 'ready'")).all())
                    db.session.rollback()
                    if all(media_id in rows for media_id, *_ in results) or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
            ready = sorted(float(rows[m]) - started for m, started, *_ in results if m in rows)
            latencies = sorted(done - started for _, started, done, _ in results)
        finally:
            api.terminate()
            worker.terminate()
            api.wait(timeout=30)
            worker.wait(timeout=30)

    total_mb = sum(size for *_, size in results) / 1e6
    growth = {pid: sampler.peak.get(pid, rss) - rss for pid, rss in baseline.items()}

    def pct(values, q):
        return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]

    print("\n## result")
    print(f"uploads: {len(results)} concurrent x {statistics.mean(sizes[:-1]) / 1e6:.2f} MB "
          f"(12 MP JPEG), gunicorn {args.workers} workers x {args.threads} threads (gthread)")
    print(f"upload throughput: {total_mb / wall:.1f} MB/s ({total_mb:.0f} MB in {wall:.2f} s)")
    print(f"raw disk write, same filesystem: {disk['buffered']:.0f} MB/s buffered, "
          f"{disk['fsync_per_file']:.0f} MB/s with fsync per file")
    print(f"upload latency: p50 {pct(latencies, .5):.2f} s, p99 {pct(latencies, .99):.2f} s")
    print("API RSS per gunicorn worker (baseline -> peak, growth): " + ", ".join(
        f"{baseline[pid] / 2**20:.0f} -> {sampler.peak.get(pid, 0) / 2**20:.0f} MB (+{growth[pid] / 2**20:.0f})"
        for pid in baseline))
    print(f"API RSS total of workers: {sum(baseline.values()) / 2**20:.0f} -> {sampler.peak_total / 2**20:.0f} MB")
    print(f"upload -> thumbnail ready ({len(ready)}/{len(results)}): p50 {pct(ready, .5):.2f} s, "
          f"p99 {pct(ready, .99):.2f} s, max {ready[-1]:.2f} s")
    print(f"check: {hashlib.sha256(b''.join(m.encode() for m, *_ in results)).hexdigest()[:8]}")


if __name__ == "__main__":
    main()
