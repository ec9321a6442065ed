"""The example app of docs/workflows.md, examples/marketplace: it checks clean, its workflows
run as the docs say (on SQLite and PostgreSQL), and `burble check` reports workflow problems."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from burble.appdef.load import load_app
from burble.cli.main import main
from burble.jobs import Status
from burble.mail import outbox
from burble.runtime import Databases, definition_problems
from tests.api.support import assert_shape_a
from tests.scheduling.support import drain, jobs
from tests.workflows.support import App

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "marketplace"


def test_the_example_loads_clean() -> None:
    definition = load_app(EXAMPLE)
    assert set(definition.workflows) == {
        "sign-up",
        "log-in",
        "create-listing",
        "stripe-webhook",
        "ask-for-review",
    }
    assert set(definition.triggers) == {"listing-sold"}
    assert set(definition.custom_events) == {"record-sale"}
    text = (EXAMPLE / "app.yaml").read_text()
    assert definition_problems(text, str(EXAMPLE / "app.yaml")) == []


@pytest.fixture
def app(databases: Databases) -> App:
    a = App(databases, (EXAMPLE / "app.yaml").read_text())
    a.user("ann", name="Ann")
    return a


def test_create_listing(app: App) -> None:
    out = app.run("create-listing", "ann", json={"title": "Red bike", "price": 120})
    listing = app.things("Listing")[0]
    assert out == {
        "id": listing["_id"],
        "slug": "red-bike",
        "listed": "Ann listed Red bike for 120",
    }
    assert listing["owner"] == app.ids["ann"] and listing["Slug"] == "red-bike"
    again = app.run("create-listing", "ann", json={"title": "Red bike", "price": 99})
    assert again["slug"] == "red-bike-1"
    assert_shape_a(app.post("create-listing", "anonymous", json={"title": "x"}), 401)
    body = assert_shape_a(app.post("create-listing", "ann", json={"title": "x"}), 400)
    assert body["body"]["message"] == (
        "Missing parameter for workflow create-listing: parameter price"
    )
    # An admin token is not a logged-in user: the condition stops it.
    r = app.post("create-listing", "admin", json={"title": "x", "price": 1})
    assert r.status_code == 400 and r.json()["status"] == "NOT_RUN"


def test_stripe_webhook(app: App) -> None:
    listing = app.run("create-listing", "ann", json={"title": "Bike", "price": 120})["id"]
    ignored = app.post(
        "stripe-webhook",
        "anonymous",
        json={"type": "charge.refunded", "payment_id": "pi_1", "amount": 1},
    )
    assert ignored.status_code == 200 and ignored.json() == {"status": "success", "response": {}}
    sent = {
        "type": "payment_intent.succeeded",
        "payment_id": "pi_1",
        "amount": 12000,
        "listing": listing,
    }
    out = app.run("stripe-webhook", "anonymous", data={k: str(v) for k, v in sent.items()})
    payment = app.things("Payment")[0]
    assert out == {"received": True, "payment": payment["_id"], "seller sales": 120}
    assert (payment["amount"], payment["currency"], payment["listing"]) == (120, "usd", listing)
    assert app.things("Listing")[0]["status"] == "Sold"
    # Stripe sends events again: the second time changes nothing.
    assert app.run("stripe-webhook", "anonymous", json=sent) == {}
    assert len(app.things("Payment")) == 1
    assert app.things("User")[0]["sales"] == 120
    # The sale fired `listing-sold`, which schedules the review email three days later.
    assert drain(app) == 1  # the trigger
    (review,) = [j for j in jobs(app) if j.status is Status.SCHEDULED]
    assert review.workflow == "ask-for-review"
    assert drain(app, at=review.run_at) == 1
    (email,) = outbox.emails(app.env.backend)
    assert email.message.to == ("ann@example.com",)
    assert email.message.subject == "How did selling Bike go?"


def test_check_reports_workflow_problems(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    path = app / "app.yaml"
    path.write_text(path.read_text().replace('slug: "[title]"', 'slug: "[titel]"'))
    result = CliRunner().invoke(main, ["check", str(app)])
    assert result.exit_code == 1
    assert "unknown name 'titel'" in result.output
    assert "(at workflows.create-listing.actions[1].slug)" in result.output
    assert "1 problem found." in result.output
