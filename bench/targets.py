"""The two servers under test, set up the same way: started on a loopback port from a
temporary directory, given the same users and the same records, and asked the same things.

- Burble: the bench app (bench/app/app.yaml) deployed to Live with `burble deploy`, an admin
  token from `burble token create`, users and their tokens from `burble user create|token
  --version live`, served by `burble serve` (Live, SQLite, its production settings: uvicorn
  without access log). Seeded through the Data API's bulk endpoint.
- PocketBase: a superuser from `pocketbase superuser upsert`; the collection, its indexes,
  its owner rules, the users and the settings (request logs off, batch API on) through its
  superuser API. Seeded through its batch API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import httpx

from bench.dataset import USERS, ListQuery, Record
from bench.procs import Process, free_port
from bench.wrk import HttpRequest

APP_YAML = Path(__file__).parent / "app" / "app.yaml"
BULK_SIZE = 1000
COLLECTION = "rentalunit"
PASSWORD = "bench-password-"  # + the user's number; loopback-only throwaway accounts

# The indexes PocketBase gets: the same as Burble's, on the fields the cases filter or sort on
# (the bench app's `indexes`, with `auto_index: false`).
POCKETBASE_INDEXES = [
    f"CREATE INDEX idx_{COLLECTION}_city_price ON {COLLECTION} (city, price)",
    f"CREATE INDEX idx_{COLLECTION}_owner_city_price ON {COLLECTION} (owner, city, price)",
    f"CREATE INDEX idx_{COLLECTION}_city ON {COLLECTION} (city)",
    f"CREATE INDEX idx_{COLLECTION}_price ON {COLLECTION} (price)",
    f"CREATE INDEX idx_{COLLECTION}_owner ON {COLLECTION} (owner)",
]
OWNER_RULE = "owner = @request.auth.id"


def _chunks(items: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _email(user: int) -> str:
    return f"user{user}@bench.test"


class Target:
    """A server under test: how to start it, seed it and phrase each case's requests."""

    name = ""
    label = ""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: Process | None = None
        self.user_ids: list[str] = []
        self.ids: list[str] = []  # unique ids of the seeded records, in seeding order
        self.seed_seconds = 0.0
        self.data_dir = workdir / "data"
        self._starts = 0
        self.written = False  # things created since seeding (or since `back_to_seeded`)
        self._local = threading.local()

    # --- process --------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def keep_seeded(self) -> None:
        """Stop the server, copy its data (as seeded) aside, and serve again."""
        self.stop()
        shutil.copytree(self.data_dir, self.workdir / "seeded")
        self.serve()
        self.written = False

    def back_to_seeded(self) -> None:
        """Stop the server, put the data kept by `keep_seeded` back, and serve again: the
        same users, tokens and things, none of the previous cases' writes."""
        self.stop()
        shutil.rmtree(self.data_dir)
        shutil.copytree(self.workdir / "seeded", self.data_dir)
        self._local = threading.local()  # no connection to the stopped server is reused
        self.serve()
        self.written = False

    def _log_path(self) -> Path:
        self._starts += 1
        return self.workdir / ("serve.log" if self._starts == 1 else f"serve-{self._starts}.log")

    def client(self) -> httpx.Client:
        """An HTTP client for this thread (the seeding runs in several)."""
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(base_url=self.base_url, timeout=300)
            self._local.client = client
        return client

    def send(self, request: HttpRequest) -> httpx.Response:
        return self.client().request(
            request.method,
            request.path,
            headers=dict(request.headers),
            content=None if request.body is None else request.body.encode("utf-8"),
        )

    # --- what each server implements ------------------------------------------------------

    def start(self) -> None:
        """Set the server up (users, tokens, settings), then `serve`."""
        raise NotImplementedError

    def serve(self) -> None:
        """Start the server process on the data it has and wait until it answers."""
        raise NotImplementedError

    def get_request(self, thing_id: str, user: int | None) -> HttpRequest:
        raise NotImplementedError

    def list_request(self, query: ListQuery, user: int | None) -> HttpRequest:
        raise NotImplementedError

    def create_request(self, record: Record) -> HttpRequest:
        raise NotImplementedError

    def bulk_request(self, records: Sequence[Record]) -> HttpRequest:
        raise NotImplementedError

    def workflow_request(self, record: Record) -> HttpRequest:
        """(f): an API workflow creating `record` (Burble only)."""
        raise NotImplementedError

    def bulk_ids(self, response: httpx.Response) -> list[str]:
        """The new things' ids from a bulk response (raises unless every one was created)."""
        raise NotImplementedError

    def list_total(self, response: httpx.Response) -> tuple[int, int]:
        """(results on the page, total matching) of a list response."""
        raise NotImplementedError

    def get_name(self, response: httpx.Response) -> str:
        raise NotImplementedError

    def owner_of(self, response: httpx.Response) -> str:
        raise NotImplementedError

    # --- seeding --------------------------------------------------------------------------

    def seed(
        self,
        records: Iterable[Record],
        *,
        keep_ids: bool = True,
        parallel: int = 1,
        deadline: float | None = None,
    ) -> int:
        """Create the records through the bulk API, 1,000 a request; returns how many were
        created. With `deadline` (time.monotonic()), stops sending once it has passed."""
        started = time.monotonic()
        created = 0
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            pending: list[Future[list[str]]] = []
            for chunk in _chunks(records, BULK_SIZE):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                pending.append(pool.submit(self._seed_chunk, chunk))
                while len(pending) >= parallel * 2:
                    created += self._collect(pending.pop(0), keep_ids)
            for future in pending:
                created += self._collect(future, keep_ids)
        self.seed_seconds += time.monotonic() - started
        return created

    def _collect(self, future: Future[list[str]], keep_ids: bool) -> int:
        ids = future.result()
        if keep_ids:
            self.ids += ids
        return len(ids)

    def _seed_chunk(self, chunk: list[Record]) -> list[str]:
        response = self.send(self.bulk_request(chunk))
        return self.bulk_ids(response)


class BurbleTarget(Target):
    name = "burble"
    label = "Burble"

    def __init__(
        self, workdir: Path, app_yaml: Path = APP_YAML, workers: int | None = None
    ) -> None:
        super().__init__(workdir)
        self.workers = workers  # None: burble serve's default (one process per CPU core)
        self.app_dir = workdir / "app"
        self.app_dir.mkdir(parents=True)
        shutil.copy(app_yaml, self.app_dir / "app.yaml")
        self.burble = str(Path(sys.executable).parent / "burble")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BURBLE_")}
        self.env["BURBLE_DATA_DIR"] = str(self.data_dir)
        self.admin_token = ""
        self.user_tokens: list[str] = []

    def _cli(self, *args: str) -> str:
        done = subprocess.run(
            [self.burble, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise RuntimeError(f"burble {' '.join(args[:2])} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def start(self) -> None:
        app = str(self.app_dir)
        self._cli("deploy", app)
        self.admin_token = self._cli("token", "create", "--label", "bench", "--app", app)
        with ThreadPoolExecutor(max_workers=USERS) as pool:  # each command is a Python start-up
            self.user_ids = list(pool.map(self._create_user, range(USERS)))
            self.user_tokens = list(pool.map(self._user_token, range(USERS)))
        self.serve()

    def serve(self) -> None:
        app = str(self.app_dir)
        argv = [self.burble, "serve", app, "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers is not None:
            argv += ["--workers", str(self.workers)]
        self.process = Process(
            "burble serve", argv, self._log_path(), env=self.env, cwd=self.workdir
        )
        probe = self.list_request(ListQuery(0, "Oslo"), None)
        self.process.wait_until(lambda: self._answers(probe))

    def _create_user(self, user: int) -> str:
        password = f"{PASSWORD}{user}"
        args = ["--email", _email(user), "--password", password, "--version", "live"]
        return self._cli("user", "create", *args, "--app", str(self.app_dir))

    def _user_token(self, user: int) -> str:
        args = [_email(user), "--keep-logged-in", "--version", "live"]
        return self._cli("user", "token", *args, "--app", str(self.app_dir))

    def _answers(self, request: HttpRequest) -> bool:
        try:
            return self.send(request).status_code == 200
        except httpx.TransportError:
            return False

    def _headers(self, user: int | None, content_type: str | None = None) -> dict[str, str]:
        token = self.admin_token if user is None else self.user_tokens[user]
        headers = {"Authorization": f"Bearer {token}"}
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def get_request(self, thing_id: str, user: int | None) -> HttpRequest:
        return HttpRequest("GET", f"/api/1.1/obj/rentalunit/{thing_id}", self._headers(user))

    def list_request(self, query: ListQuery, user: int | None) -> HttpRequest:
        constraints = [
            {"key": "price", "constraint_type": "greater than", "value": query.min_price},
            {"key": "city", "constraint_type": "equals", "value": query.city},
        ]
        params = urllib.parse.urlencode(
            {
                "constraints": json.dumps(constraints, separators=(",", ":")),
                "sort_field": "price",
                "descending": "true",
                "limit": "100",
            },
            quote_via=urllib.parse.quote,
        )
        return HttpRequest("GET", f"/api/1.1/obj/rentalunit?{params}", self._headers(user))

    def create_request(self, record: Record) -> HttpRequest:
        body = json.dumps(record.fields(self.user_ids[record.owner]))
        return HttpRequest(
            "POST", "/api/1.1/obj/rentalunit", self._headers(None, "application/json"), body
        )

    def bulk_request(self, records: Sequence[Record]) -> HttpRequest:
        body = "\n".join(json.dumps(r.fields(self.user_ids[r.owner])) for r in records)
        return HttpRequest(
            "POST", "/api/1.1/obj/rentalunit/bulk", self._headers(None, "text/plain"), body
        )

    def workflow_request(self, record: Record) -> HttpRequest:
        body = json.dumps(record.fields(self.user_ids[record.owner]))
        return HttpRequest(
            "POST", "/api/1.1/wf/create-unit", self._headers(None, "application/json"), body
        )

    def bulk_ids(self, response: httpx.Response) -> list[str]:
        if response.status_code != 200:
            raise RuntimeError(f"Burble bulk create: {response.status_code} {response.text[:300]}")
        lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        return [str(line["id"]) for line in lines]

    def list_total(self, response: httpx.Response) -> tuple[int, int]:
        found = response.json()["response"]
        return int(found["count"]), int(found["cursor"] + found["count"] + found["remaining"])

    def get_name(self, response: httpx.Response) -> str:
        return str(response.json()["response"]["name"])

    def owner_of(self, response: httpx.Response) -> str:
        return str(response.json()["response"]["owner"])


class PocketBaseTarget(Target):
    name = "pocketbase"
    label = "PocketBase"

    def __init__(self, workdir: Path, binary: Path) -> None:
        super().__init__(workdir)
        self.binary = str(binary)
        self.data_dir = workdir / "pb_data"
        workdir.mkdir(parents=True, exist_ok=True)
        self.admin_token = ""
        self.user_tokens: list[str] = []

    def start(self) -> None:
        admin_email, admin_password = "admin@bench.test", f"{PASSWORD}admin"
        done = subprocess.run(
            [self.binary, "superuser", "upsert", admin_email, admin_password,
             "--dir", str(self.data_dir)],
            capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pocketbase superuser upsert failed: {done.stderr or done.stdout}")
        self.serve()
        self.admin_token = self._auth("_superusers", admin_email, admin_password)
        self._set_up()

    def serve(self) -> None:
        argv = [
            self.binary, "serve", "--http", f"127.0.0.1:{self.port}", "--dir", str(self.data_dir),
            "--automigrate=false", "--hooksWatch=false",
            "--hooksDir", str(self.workdir / "pb_hooks"),
            "--publicDir", str(self.workdir / "pb_public"),
            "--migrationsDir", str(self.workdir / "pb_migrations"),
        ]  # fmt: skip
        self.process = Process("pocketbase serve", argv, self._log_path(), cwd=self.workdir)
        self.process.wait_until(self._healthy)

    def _set_up(self) -> None:
        self._admin(
            "PATCH",
            "/api/settings",
            {
                # Request logs off: PocketBase measured at its best.
                "logs": {"maxDays": 0},
                "batch": {"enabled": True, "maxRequests": BULK_SIZE, "timeout": 300},
            },
        )
        users = self._admin("GET", "/api/collections/users")
        self._admin(
            "POST",
            "/api/collections",
            {
                "name": COLLECTION,
                "type": "base",
                "listRule": OWNER_RULE,
                "viewRule": OWNER_RULE,
                "createRule": OWNER_RULE,
                "updateRule": OWNER_RULE,
                "deleteRule": OWNER_RULE,
                "fields": [
                    {"name": "name", "type": "text"},
                    {"name": "price", "type": "number"},
                    {"name": "city", "type": "text"},
                    {"name": "active", "type": "bool"},
                    {
                        "name": "owner",
                        "type": "relation",
                        "collectionId": users["id"],
                        "maxSelect": 1,
                    },
                    # Burble keeps Created Date and Modified Date: so does PocketBase here.
                    {"name": "created", "type": "autodate", "onCreate": True},
                    {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
                ],
                "indexes": POCKETBASE_INDEXES,
            },
        )
        for user in range(USERS):
            password = f"{PASSWORD}{user}"
            created = self._admin(
                "POST",
                "/api/collections/users/records",
                {"email": _email(user), "password": password, "passwordConfirm": password},
            )
            self.user_ids.append(str(created["id"]))
            self.user_tokens.append(self._auth("users", _email(user), password))

    def _healthy(self) -> bool:
        try:
            return self.client().get("/api/health").status_code == 200
        except httpx.TransportError:
            return False

    def _auth(self, collection: str, email: str, password: str) -> str:
        response = self.client().post(
            f"/api/collections/{collection}/auth-with-password",
            json={"identity": email, "password": password},
        )
        if response.status_code != 200:
            raise RuntimeError(f"PocketBase auth ({collection}): {response.text[:300]}")
        return str(response.json()["token"])

    def _admin(self, method: str, path: str, body: object = None) -> Any:
        response = self.client().request(
            method, path, json=body, headers={"Authorization": self.admin_token}
        )
        if response.status_code >= 300:
            raise RuntimeError(f"PocketBase {method} {path}: {response.text[:500]}")
        return response.json()

    def _headers(self, user: int | None, json_body: bool = False) -> dict[str, str]:
        token = self.admin_token if user is None else self.user_tokens[user]
        headers = {"Authorization": token}
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def get_request(self, thing_id: str, user: int | None) -> HttpRequest:
        return HttpRequest(
            "GET", f"/api/collections/{COLLECTION}/records/{thing_id}", self._headers(user)
        )

    def list_request(self, query: ListQuery, user: int | None) -> HttpRequest:
        params = urllib.parse.urlencode(
            {
                "filter": f"price > {query.min_price} && city = '{query.city}'",
                "sort": "-price",
                "page": "1",
                "perPage": "100",
            },
            quote_via=urllib.parse.quote,
        )
        # skipTotal stays off: PocketBase counts the matches (totalItems), as Burble does.
        return HttpRequest(
            "GET", f"/api/collections/{COLLECTION}/records?{params}", self._headers(user)
        )

    def create_request(self, record: Record) -> HttpRequest:
        body = json.dumps(record.fields(self.user_ids[record.owner]))
        return HttpRequest(
            "POST", f"/api/collections/{COLLECTION}/records", self._headers(None, True), body
        )

    def bulk_request(self, records: Sequence[Record]) -> HttpRequest:
        url = f"/api/collections/{COLLECTION}/records"
        batch = [
            {"method": "POST", "url": url, "body": r.fields(self.user_ids[r.owner])}
            for r in records
        ]
        return HttpRequest(
            "POST", "/api/batch", self._headers(None, True), json.dumps({"requests": batch})
        )

    def bulk_ids(self, response: httpx.Response) -> list[str]:
        if response.status_code != 200:
            raise RuntimeError(f"PocketBase batch: {response.status_code} {response.text[:300]}")
        return [str(item["body"]["id"]) for item in response.json()]

    def list_total(self, response: httpx.Response) -> tuple[int, int]:
        found = response.json()
        return len(found["items"]), int(found["totalItems"])

    def get_name(self, response: httpx.Response) -> str:
        return str(response.json()["name"])

    def owner_of(self, response: httpx.Response) -> str:
        return str(response.json()["owner"])
