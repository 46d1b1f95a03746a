"""`make prod-smoke`: the production shape of docker-compose.yml, run on this machine without
Docker, and a ticket bought through it.

It reads the compose file and runs what its services run (migrate, gunicorn with
gunicorn.conf.py, push, the waiting room's Granian, the Celery worker, beat) with their
environment (DEBUG off), pointed at the
local PostgreSQL (a database of its own, created and dropped) and Redis (databases 12 and 13,
keys of this run only), gunicorn on a free loopback port. Then, through the HTTP API: a partner
key, a hold (and a refused one), an order, a sandbox payment paid on the sandbox's page, the
signed webhook the worker delivers, the confirmation email the worker sends (file backend);
`/healthz`, `/readyz`, `/metrics`, the compose health checks, the request id in the worker's
JSON logs. It stops everything it started, also on failure, and gives up after DEADLINE.
"""

from __future__ import annotations

import base64
import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import psycopg
import redis
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.server import HOST, free_port, stop  # noqa: E402 - the repository's own helpers

DEADLINE = 420  # seconds for the whole run, start to stop
BIN = Path(sys.executable).parent
ADMIN_DATABASE_URL = os.environ.get(
    "SMOKE_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
REDIS_BASE = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379")
CACHE_DB, BROKER_DB = 12, 13  # the test suite uses 14 and 15
CARD = "4242424242424242"  # the sandbox's card that succeeds


class SmokeFailed(Exception):
    pass


def check(condition, what: str) -> None:
    if not condition:
        raise SmokeFailed(what)
    print(f"  ok  {what}", flush=True)


def wait(predicate, what: str, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            print(f"  ok  {what}", flush=True)
            return value
        time.sleep(interval)
    raise SmokeFailed(f"{what}: not within {timeout:.0f} s")


# ---- what compose runs -----------------------------------------------------------------------
def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def _resolve(value: str, given: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, with `given` as the shell."""

    def one(match: re.Match) -> str:
        name, op, arg = match[1], match[2] or "", match[3] or ""
        if given.get(name):
            return given[name]
        if op.endswith("?"):
            raise SmokeFailed(f"compose needs {name}: {arg}")
        return arg if op.endswith("-") else ""

    return _VARIABLE.sub(one, str(value))


def _command(text: str, var_dir: Path) -> list[str]:
    argv = shlex.split(text.replace("/app/var", str(var_dir)))
    executable = BIN / ("python" if argv[0] == "python" else argv[0])
    return [str(executable), *argv[1:]]


def _dockerfile_cmd() -> list[str]:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            return json.loads(line[4:])
    raise SmokeFailed("the Dockerfile has no CMD")


def _dockerfile_collectstatic() -> tuple[dict[str, str], list[str]]:
    """The image's build step that collects the static files: its variables and command."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"^RUN (.*?collectstatic[^&\n]*)", text, re.M)
    if not match:
        raise SmokeFailed("the Dockerfile does not collect static files")
    words = shlex.split(match[1])
    env = dict(w.split("=", 1) for w in words if re.match(r"^[A-Z_]+=", w))
    return env, [w for w in words if not re.match(r"^[A-Z_]+=", w)]


class Shape:
    """The processes of one smoke run and their surroundings."""

    def __init__(self) -> None:
        self.run_id = f"smoke-{os.getpid()}"
        self.tmp = Path(tempfile.mkdtemp(prefix="marquee-prod-smoke-"))
        self.var = self.tmp / "var"
        self.mail = self.tmp / "mail"
        self.logs = self.tmp / "logs"
        for folder in (self.var, self.mail, self.logs, self.tmp / "metrics"):
            folder.mkdir()
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.push_port = free_port()  # the push service's 8001, here
        self.waiting_port = free_port()  # the waiting service's 8002, here
        self.database = f"marquee_{self.run_id.replace('-', '_')}"
        self.metrics_token = secrets.token_urlsafe(24)
        self.processes: dict[str, subprocess.Popen] = {}
        self.compose = _compose()
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        admin = urllib.parse.urlsplit(ADMIN_DATABASE_URL)
        self.shell = shell = {  # what an operator would put in .env for this machine
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            # Any 32 random bytes are an Ed25519 key (`manage.py ticket_signing_key` prints one).
            "MARQUEE_TICKET_SIGNING_KEYS": "smoke:"
            + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode(),
            "MARQUEE_SITE_URL": self.base,
            "MARQUEE_PAYMENT_PROVIDERS": "sandbox",
            "MARQUEE_SANDBOX_IN_PRODUCTION": "1",
            "MARQUEE_SANDBOX_WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "MARQUEE_HTTPS": "0",  # plain HTTP on the loopback
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        }
        # Nothing of the developer's own settings (DJANGO_*, MARQUEE_*, CELERY_*, SENTRY_*, ...).
        ours = ("DJANGO_", "MARQUEE_", "CELERY_", "SENTRY_", "GUNICORN_", "EMAIL_", "STRIPE_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        for name in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "LOG_LEVEL"):
            env.pop(name, None)
        for name, value in self.compose["x-app"]["environment"].items():
            env[name] = _resolve(value, shell)
        env.update(
            {
                # compose's service names, here on the loopback
                "DATABASE_URL": admin._replace(path=f"/{self.database}").geturl(),
                "REDIS_URL": f"{REDIS_BASE}/{CACHE_DB}",
                "CELERY_BROKER_URL": f"{REDIS_BASE}/{BROKER_DB}",
                "MARQUEE_SANDBOX_WEBHOOK_BASE_URL": self.base,
                # this run's own corner of the shared Redis and of the disk
                "CELERY_QUEUE": self.run_id,
                "CACHE_KEY_PREFIX": self.run_id,
                "MARQUEE_VAR_DIR": str(self.var),
                "EMAIL_FILE_PATH": str(self.mail),
                "PROMETHEUS_MULTIPROC_DIR": str(self.tmp / "metrics"),
                # sooner than production, to see them within the run
                "MARQUEE_HEARTBEAT_INTERVAL": "2",
                "MARQUEE_SWEEP_INTERVAL": "5",
                "MARQUEE_OUTBOX_INTERVAL": "5",
                "MARQUEE_TRUST_REQUEST_ID": "1",
                "MARQUEE_METRICS_TOKEN": self.metrics_token,
                "MARQUEE_THROTTLE_ANON": "5/min",
                "GUNICORN_WORKERS": "2",
                "GUNICORN_THREADS": "2",
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            }
        )
        return env

    def service_env(self, service: str) -> dict[str, str]:
        env = dict(self.env)
        shared = self.compose["x-app"]["environment"]
        for name, value in (self.compose["services"][service].get("environment") or {}).items():
            if shared.get(name) != value:  # the service's own, beyond the shared block
                env[name] = _resolve(value, self.shell)
        if service == "web":
            env["GUNICORN_BIND"] = f"{HOST}:{self.port}"
        return env

    def command(self, service: str) -> list[str]:
        argv = _command(self.compose["services"][service]["command"], self.var)
        ports = {"push": ("8001", self.push_port), "waiting": ("8002", self.waiting_port)}
        if service in ports:  # compose's 0.0.0.0:800x, here a free port of the loopback
            anywhere = "0.0.0.0"  # noqa: S104 - replaced by the loopback
            port, here = ports[service]
            argv = [a.replace(anywhere, HOST).replace(port, str(here)) for a in argv]
        return argv

    def run(self, argv: list[str], *, env=None, timeout: float = 180) -> str:
        done = subprocess.run(
            argv, cwd=ROOT, env=env or self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise SmokeFailed(f"{shlex.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, service: str) -> None:
        log = open(self.logs / f"{service}.log", "wb")  # noqa: SIM115 - open while it runs
        self.processes[service] = subprocess.Popen(
            self.command(service),
            cwd=ROOT,
            env=self.service_env(service),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        print(f"  ..  {service}: {shlex.join(self.command(service))}", flush=True)

    def alive(self) -> None:
        for service, proc in self.processes.items():
            if proc.poll() is not None:
                raise SmokeFailed(f"{service} exited with {proc.returncode}")

    def healthcheck(self, service: str) -> None:
        """The compose health check of a service, as compose would run it in its container."""
        test = self.compose["services"][service]["healthcheck"]["test"]
        kind, rest = test[0], test[1:]
        if kind == "CMD-SHELL":
            argv = ["sh", "-c", rest[0].replace("$$", "$")]
        else:
            argv = [str(BIN / "python") if rest[0] == "python" else rest[0], *rest[1:]]
        argv = [a.replace("127.0.0.1:8000", f"{HOST}:{self.port}") for a in argv]
        argv = [a.replace("127.0.0.1:8001", f"{HOST}:{self.push_port}") for a in argv]
        argv = [a.replace("127.0.0.1:8002", f"{HOST}:{self.waiting_port}") for a in argv]
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env=self.service_env(service),
            capture_output=True,
            text=True,
            timeout=60,
        )
        check(
            done.returncode == 0,
            f"compose health check of {service}: {shlex.join(test)}"
            + ("" if done.returncode == 0 else f"\n{done.stdout}{done.stderr}"),
        )

    def log_lines(self, service: str) -> list[str]:
        return (self.logs / f"{service}.log").read_text(errors="replace").splitlines()

    # ---- setting up and tearing down -----------------------------------------------------
    def create_database(self) -> None:
        with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def teardown(self) -> None:
        for service in ("web", "push", "waiting", "beat", "worker"):
            proc = self.processes.get(service)
            if proc is not None:
                stop(proc)
        with (
            contextlib.suppress(Exception),
            psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as conn,
        ):
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        for db, pattern in ((CACHE_DB, f"{self.run_id}:*"), (BROKER_DB, f"*{self.run_id}*")):
            with contextlib.suppress(Exception):
                client = redis.Redis.from_url(f"{REDIS_BASE}/{db}")
                keys = list(client.scan_iter(match=pattern, count=500))
                if keys:
                    client.delete(*keys)


# ---- HTTP ------------------------------------------------------------------------------------
class Browser:
    """urllib with cookies, answering (status, headers, body) for every status."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def call(self, method: str, path: str, *, body=None, form=None, headers=None, key=None):
        url = path if path.startswith("http") else self.base + path
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - loopback
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def json(self, method: str, path: str, **kw):
        status, _, raw = self.call(method, path, **kw)
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw[:500]

    def csrf(self) -> str:
        return next((c.value for c in self.cookies if c.name == "csrftoken"), "")


def metrics_values(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


# ---- the run ---------------------------------------------------------------------------------
def consistent(shape: Shape) -> None:
    services = shape.compose["services"]
    check(
        _dockerfile_cmd() == shlex.split(services["web"]["command"]),
        "the Dockerfile's CMD is the compose web command",
    )
    for service in ("web", "worker", "beat"):
        test = " ".join(services[service]["healthcheck"]["test"])
        check("readyz" in test or "check_ready" in test, f"{service}'s health check is readiness")


def set_up(shape: Shape) -> str:
    shape.create_database()
    print(f"  ..  database {shape.database}, Redis {CACHE_DB}/{BROKER_DB}, {shape.base}")
    build_env, collect = _dockerfile_collectstatic()
    shape.run(_command(shlex.join(collect), shape.var), env={**shape.env, **build_env})
    shape.run(shape.command("migrate"), env=shape.service_env("migrate"))
    print("  ok  migrate (the compose migrate service)", flush=True)
    web = shape.service_env("web")
    refused = subprocess.run(
        [sys.executable, "manage.py", "load_demo"],
        cwd=ROOT,
        env=web,
        capture_output=True,
        text=True,
    )
    check(refused.returncode != 0, "load_demo without --force refuses with DEBUG off")
    shape.run([sys.executable, "manage.py", "load_demo", "--force"], env=web)
    out = shape.run(
        [sys.executable, "manage.py", "create_partner", "Smoke partner", "--scopes", "read,book"],
        env=web,
    )
    key = out.strip().splitlines()[-1].strip()
    check(len(key) > 20, "create_partner printed an API key")
    return key


def start(shape: Shape, browser: Browser) -> None:
    for service in ("worker", "beat", "web", "push", "waiting"):
        shape.start(service)

    def ready():
        shape.alive()
        try:
            status, body = browser.json("GET", "/readyz")
        except OSError:  # not listening yet
            return None
        return status == 200 and body

    body = wait(ready, "/readyz answers 200: database, migrations, worker and beat heartbeats", 120)
    check(body["worker"]["status"] == "ok" and body["beat"]["status"] == "ok", f"readiness {body}")
    status, body = browser.json("GET", "/healthz")
    check(status == 200 and body["database"] == "ok", f"/healthz {status} {body}")
    wait(lambda: _push_stream(shape, 0), "the push service streams (live seat maps)", 60)
    waiting = Browser(f"http://{HOST}:{shape.waiting_port}")

    def waiting_answers():
        shape.alive()
        try:
            return waiting.json("GET", "/wait/0/status.json")
        except OSError:  # not listening yet
            return None

    status, body = wait(waiting_answers, "the waiting service answers (the onsale queue)", 60)
    check(status == 200 and body == {"state": "unknown", "reload": True}, f"waiting {body}")
    status, _, _ = waiting.call("GET", "/wait/999999/")  # not in Redis: Django answers, 404
    check(status == 404, f"the waiting service's Django answers an unknown onsale 404 ({status})")
    for service in ("web", "worker", "beat", "push", "waiting"):
        shape.healthcheck(service)


def buy(shape: Shape, browser: Browser, key: str) -> tuple[dict, str]:
    status, page = browser.json("GET", "/api/v1/screenings/", key=key)
    check(status == 200, f"screenings listed ({status})")
    on_sale = [s for s in page["results"] if s["on_sale"]]
    check(on_sale, "a demo screening is on sale")
    screening = on_sale[0]
    status, detail = browser.json("GET", f"/api/v1/screenings/{screening['id']}/", key=key)
    ticket_type = detail["ticket_types"][0]["code"]

    stream = _push_stream(shape, screening["id"])  # an open seat map, listening
    asked = time.monotonic()
    status, held = browser.json(
        "POST", "/api/v1/holds/", body={"screening": screening["id"], "quantity": 2}, key=key
    )
    check(status == 201, f"two seats held, best available ({status} {held})")
    seats = [seat["id"] for seat in held["seats"]]
    check(stream is not None, "a seat map's push stream opened")
    pushed = _pushed(stream, seats, asked)
    check(pushed < 1.0, f"the open seat map was pushed the hold within a second ({pushed:.2f} s)")
    status, _ = browser.json(
        "POST", "/api/v1/holds/", body={"screening": screening["id"], "seats": seats}, key=key
    )
    check(status == 409, f"the same seats again are refused with 409 ({status})")

    status, made = browser.json(
        "POST",
        "/api/v1/orders/",
        body={
            "hold": held["id"],
            "customer": {"email": "smoke@example.com", "name": "Smoke Test"},
            "tickets": [{"seat": seat, "ticket_type": ticket_type} for seat in seats],
        },
        key=key,
    )
    check(status == 201 and made["status"] == "pending_payment", f"order created ({status})")
    status, payment = browser.json(
        "POST", f"/api/v1/orders/{made['id']}/payments/", body={"provider": "sandbox"}, key=key
    )
    check(status == 201 and payment["redirect_url"], f"sandbox payment started ({status})")

    status, _, html = browser.call("GET", payment["redirect_url"])
    check(status == 200, f"the sandbox's payment page opens ({status})")
    token = re.search(rb'name="t" value="([^"]+)"', html)
    check(token, "the payment page carries its signed state")
    rid = f"smoke-{secrets.token_hex(8)}"
    form = {
        "csrfmiddlewaretoken": browser.csrf(),
        "t": token[1].decode(),
        "number": CARD,
        "expiry": f"12/{(date.today().year + 2) % 100:02d}",
        "cvc": "123",
        "name": "Smoke Test",
    }
    status, _, _ = browser.call(
        "POST", payment["redirect_url"], form=form, headers={"X-Request-ID": rid}
    )
    check(status == 200, f"the card is taken and the buyer is back on the site ({status})")

    def paid():
        shape.alive()
        status, order = browser.json("GET", f"/api/v1/orders/{made['id']}/", key=key)
        return status == 200 and order["status"] == "paid" and order

    order = wait(paid, "the worker delivered the signed webhook: the order is paid", 60)
    check(all(t["code"] for t in order["tickets"]), "each ticket has its code")

    def mailed():
        for path in shape.mail.glob("*.log"):
            text = path.read_text(errors="replace")
            if order["code"] in text and "smoke@example.com" in text:
                return True
        return False

    wait(mailed, "the worker sent the confirmation email", 60)
    return order, rid


def _push_stream(shape: Shape, screening_id: int):
    """A seat map's stream from the push service, its first event read; None if refused."""
    url = f"http://{HOST}:{shape.push_port}/live/screenings/{screening_id}/seats/"
    try:
        stream = urllib.request.urlopen(url, timeout=5)
    except (OSError, urllib.error.HTTPError):
        return None
    while stream.readline().strip() != b"":  # retry:, id:, data: ... up to the blank line
        pass
    return stream


def _pushed(stream, seats: list[int], started: float) -> float:
    """Seconds from `started` until the stream carries these seats as held."""
    while True:
        line = stream.readline()
        if not line:
            raise SmokeFailed("the push stream ended before the hold arrived")
        if line.startswith(b"data:") and all(
            json.loads(line[5:]).get("seats", {}).get(str(s)) == "held" for s in seats
        ):
            stream.close()
            return time.monotonic() - started


def observe(shape: Shape, browser: Browser, rid: str) -> None:
    status, headers, _ = browser.call("GET", "/healthz", headers={"X-Request-ID": "smoke-echo-1"})
    check(headers["X-Request-ID"] == "smoke-echo-1", "a trusted X-Request-ID is answered back")
    answers = [browser.call("GET", "/api/v1/films/")[0] for _ in range(7)]
    check(429 in answers, f"anonymous callers past their rate get 429 ({answers})")

    status, _, _ = browser.call("GET", "/metrics")
    check(status == 401, f"/metrics without the token is refused ({status})")

    def scraped():
        status, _, raw = browser.call(
            "GET", "/metrics", headers={"Authorization": f"Bearer {shape.metrics_token}"}
        )
        values = metrics_values(raw.decode()) if status == 200 else {}
        return 'marquee_heartbeat_age_seconds{component="sweep"}' in values and values

    values = wait(scraped, "/metrics with the token, the sweep's heartbeat in it", 60, 1)
    for name in (
        "marquee_holds_created_total",
        "marquee_orders_created_total",
        "marquee_orders_paid_total",
        'marquee_hold_conflicts_total{surface="api"}',
        'marquee_throttled_responses_total{surface="api"}',
    ):
        check(values.get(name, 0) >= 1, f"{name} = {values.get(name)}")
    check('marquee_outbox_messages{status="pending"}' in values, "the outbox backlog is there")
    check("marquee_sweep_lag_seconds" in values, "the sweep lag is there")

    for service in ("web", "worker", "beat"):
        plain = [line for line in shape.log_lines(service) if line and not line.startswith("{")]
        check(
            not plain,
            f"every line of the {service} log is JSON"
            + "".join(f"\n      {line}" for line in plain[:5]),
        )
    carried = [
        line for line in map(json.loads, shape.log_lines("worker")) if line.get("request_id") == rid
    ]
    check(carried, "the worker's log lines of the payment's task carry the page's request id")
    status, _ = browser.json("GET", "/readyz")
    check(status == 200, f"still ready at the end ({status})")


def _interrupted(signum, frame):
    if signum == signal.SIGALRM:
        raise SmokeFailed(f"the smoke test took more than {DEADLINE} s")
    raise SmokeFailed(f"stopped by signal {signum}")


def main() -> int:
    for signum in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _interrupted)
    signal.alarm(DEADLINE)
    started = time.monotonic()
    shape = Shape()
    browser = Browser(shape.base)
    failed = None
    print(f"prod-smoke: the compose shape on {shape.base} ({shape.tmp})", flush=True)
    try:
        consistent(shape)
        key = set_up(shape)
        start(shape, browser)
        order, rid = buy(shape, browser, key)
        observe(shape, browser, rid)
    except (SmokeFailed, OSError, subprocess.SubprocessError, KeyError, ValueError) as exc:
        failed = exc
    finally:
        signal.alarm(0)
        if failed is not None:
            print(f"\nprod-smoke FAILED: {failed}\n(logs kept in {shape.logs})\n", flush=True)
            for log in sorted(shape.logs.glob("*.log")):
                print(f"---- {log.name} (last lines) ----")
                print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        shape.teardown()
        if failed is None:
            shutil.rmtree(shape.tmp, ignore_errors=True)
    if failed is not None:
        return 1
    print(
        f"prod-smoke: order {order['code']} bought end to end; all checks passed in "
        f"{time.monotonic() - started:.0f} s; everything it started is stopped."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
