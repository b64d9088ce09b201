"""HTTP benchmark: course_app beside two baselines, same machine, same run.

Starts three uvicorn servers (1 worker each) on 127.0.0.1, seeds their databases,
then drives each endpoint with ``wrk`` (fixed duration and connections) one at a time,
and prints a Markdown table (requests/s, p50 and p99 latency, ratio to the bare list).

    .venv/bin/python bench/run_http.py [--duration 10] [--rounds 3] [--connections 16] [--out bench/results.md]
                                       [--only TEXT ...]

Targets 127.0.0.1 only; every run is bounded by --duration. Needs ``wrk`` (Debian: wrk)
and the ``bench`` extra (sqlmodel, for the tutorial baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "exercises"))
sys.path.insert(0, str(ROOT))

from coursekit.server import serve  # noqa: E402

SECRET = "bench-" + "k" * 40


@dataclass
class Result:
    name: str
    url: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(name: str, url: str, duration: int, connections: int, headers: dict[str, str]) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run(  # noqa: S603 - fixed command, loopback target
        [*command, url], capture_output=True, text=True, check=True, timeout=duration + 30
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Result(name, url, rps, p50, p99, errors)


async def seed_course(database_url: str, products: int, orders: int) -> str:
    from sqlalchemy.ext.asyncio import AsyncSession

    from course_app.config import load_settings
    from course_app.core.database import build_engine
    from course_app.core.security import create_token, hash_password
    from course_app.features.orders.models import Order, OrderItem
    from course_app.features.products.models import Product
    from course_app.features.users.models import User

    engine = build_engine(database_url)
    async with engine.begin() as connection, AsyncSession(bind=connection) as session:
        user = User(email="bench@example.com", full_name="Bench", hashed_password=hash_password("x" * 12))
        session.add(user)
        items = [
            Product(sku=f"SKU-{i:05d}", name=f"Product {i}", description="", category="general",
                    price_cents=1999, stock=1000)
            for i in range(1, products + 1)
        ]
        session.add_all(items)
        await session.flush()
        for index in range(orders):
            product = items[index % len(items)]
            session.add(
                Order(user_id=user.id, total_cents=product.price_cents * 2,
                      items=[OrderItem(product_id=product.id, quantity=2, unit_price_cents=product.price_cents)])
            )
        await session.flush()
        user_id = user.id
    await engine.dispose()
    settings = load_settings(_env_file=None, environment="test", jwt_secret=SECRET, database_url=database_url)
    return create_token(settings, str(user_id), "access")


def seed_tutorial(url: str, heroes: int) -> None:
    import httpx

    with httpx.Client(base_url=url) as client:
        for index in range(heroes):
            client.post("/heroes/", json={"name": f"Hero {index}", "secret_name": f"S{index}", "age": 30})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians reported")
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    parser.add_argument(
        "--only", action="append", default=[], metavar="TEXT",
        help="measure only the course_app endpoints whose name contains TEXT (repeatable); "
             "the two baselines are always measured",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    course_db = f"sqlite+aiosqlite:///{work / 'course.db'}"
    base_env = {k: v for k, v in os.environ.items() if k.upper() not in {"DATABASE_URL", "ENVIRONMENT"}}
    course_env = {
        **base_env,
        "ENVIRONMENT": "staging",  # production-like: JSON logs, no docs, no schema at start
        "DATABASE_URL": course_db,
        "JWT_SECRET": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CORS_ORIGINS": "https://shop.example",
        "LOG_LEVEL": "INFO",
    }
    subprocess.run(  # noqa: S603 - migrations first, as in a deployment
        [sys.executable, "-m", "course_app", "migrate"], env=course_env, check=True, cwd=work,
        capture_output=True,
    )
    token = asyncio.run(seed_course(course_db, products=200, orders=20))
    results: list[Result] = []
    with ExitStack() as stack:
        bare = stack.enter_context(serve("bare_app:app", cwd=HERE, env={**base_env, "PYTHONPATH": str(HERE)}))
        tutorial = stack.enter_context(
            serve("tutorial_app:app", cwd=work, ready_path="/heroes/",
                  env={**base_env, "PYTHONPATH": str(HERE), "TUTORIAL_DB": str(work / "tutorial.db")})
        )
        course = stack.enter_context(
            serve("course_app.main:create_app", factory=True, cwd=work, env=course_env,
                  extra=["--no-access-log"])
        )
        uncached = stack.enter_context(
            serve("course_app.main:create_app", factory=True, cwd=work,
                  env={**course_env, "CACHE_ENABLED": "false"}, extra=["--no-access-log"])
        )
        seed_tutorial(tutorial.url, heroes=200)
        plan = [
            ("bare FastAPI list (memory)", f"{bare.url}/items", {}),
            ("tutorial SQL app /heroes/?limit=20", f"{tutorial.url}/heroes/?limit=20", {}),
            ("course_app /api/products (cached)", f"{course.url}/api/products?page_size=20", {}),
            ("course_app /api/products (uncached)", f"{uncached.url}/api/products?page_size=20", {}),
            ("course_app /api/orders (authenticated)", f"{course.url}/api/orders?page_size=20",
             {"Authorization": f"Bearer {token}"}),
            ("course_app /health", f"{course.url}/health", {}),
        ]
        if args.only:
            plan = plan[:2] + [row for row in plan[2:] if any(text in row[0] for text in args.only)]
        for name, url, headers in plan:
            # warm-up, same for every server: connections opened, caches filled, first-call
            # costs (imports, compiled queries) paid before the clock starts
            run_wrk(name, url, args.warmup, args.connections, headers)
        # Rounds interleave the endpoints, so a slow spell of a shared machine lands on all
        # of them instead of on whichever ran at that moment; each figure is the median.
        rounds: dict[str, list[Result]] = {name: [] for name, _, _ in plan}
        for round_number in range(1, args.rounds + 1):
            for name, url, headers in plan:
                rounds[name].append(run_wrk(name, url, args.duration, args.connections, headers))
                print(f"round {round_number} {name}: {rounds[name][-1].requests_per_s:.0f} req/s",
                      file=sys.stderr)
        for name, url, _ in plan:
            runs = rounds[name]
            results.append(Result(
                name, url,
                statistics.median(r.requests_per_s for r in runs),
                statistics.median(r.p50_ms for r in runs),
                statistics.median(r.p99_ms for r in runs),
                sum(r.errors for r in runs),
            ))
    bare_rps = results[0].requests_per_s
    tutorial_rps = results[1].requests_per_s
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}); uvicorn 1 worker each, "
        f"wrk -t2 -c{args.connections} -d{args.duration}s after {args.warmup}s of warm-up, "
        f"medians of {args.rounds} interleaved rounds, all on 127.0.0.1.",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | errors | × bare | × tutorial |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.requests_per_s:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} "
            f"| {r.requests_per_s / bare_rps:.2f} | {r.requests_per_s / tutorial_rps:.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
