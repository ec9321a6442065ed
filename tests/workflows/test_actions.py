"""Each action through the Workflow API, on SQLite and PostgreSQL: create (defaults), change,
list changes, change a list (This <Type>), delete, delete a list, copy a list (and its limit),
set a slug, return data, terminate, only_when on actions, Result of step N chains."""

from __future__ import annotations

import pytest

from burble.runtime import Databases
from tests.api.support import assert_shape_a
from tests.workflows.support import App

APP = """
name: wfactions
settings:
  workflow_api: true
option_sets:
  Color: [Red, Green, Blue]
types:
  Item:
    fields:
      name: text
      price: number
      qty: {type: number, default: 1}
      color: {type: Color, default: Red}
      tags: list of texts
      parent: Item
      when: date
workflows:
  create:
    expose: true
    parameters: {name: text, price: {type: number, optional: true}}
    actions:
      - create: Item
        fields: {name: "[name]", price: "[price]", tags: [new, "[name]"], when: "2024-01-02"}
      - return:
          id: "[Result of step 1's unique id]"
          qty: "[Result of step 1's qty]"
          color: "[Result of step 1's color]"
          when: "[Result of step 1's when]"
          by: "[Result of step 1 (Create a new thing)'s Creator]"
  tags:
    expose: true
    parameters:
      item: Item
      add: {type: text, optional: true}
      remove: {type: text, optional: true}
      more: {type: list of texts, optional: true}
      less: {type: list of texts, optional: true}
      clear: {type: yes/no, optional: true}
    actions:
      - change: "[item]"
        only_when: add is not empty
        fields: {tags: {add: "[add]"}}
      - change: "[item]"
        only_when: remove is not empty
        fields: {tags: {remove: "[remove]"}}
      - change: "[item]"
        only_when: more is not empty
        fields: {tags: {add list: "[more]"}}
      - change: "[item]"
        only_when: less is not empty
        fields: {tags: {remove list: "[less]"}}
      - change: "[item]"
        only_when: clear is yes
        fields: {tags: {clear: true}}
      - return: {tags: "[item's tags]"}
  change:
    expose: true
    parameters: {item: {type: Item, optional: true}, price: number}
    actions:
      - change: "[item]"
        fields: {price: "[price]", name: "changed to [price]", color: Blue}
      - return: {same: "[Result of step 1 is item]", price: "[Result of step 1's price]"}
  discount:
    expose: true
    parameters: {color: Color}
    actions:
      - change_list: "[Search for Items (color = color):sorted by name]"
        fields:
          price: "[This Item's price * 0.5]"
          name: "[This Item's name] (sale)"
      - return: {count: "[Result of step 1:count]", names: "[Result of step 1's name]"}
  delete:
    expose: true
    parameters: {item: {type: Item, optional: true}}
    actions:
      - delete: "[item]"
      - return: {left: "[Search for Items:count]"}
  delete-color:
    expose: true
    parameters: {color: Color}
    actions:
      - delete_list: "[Search for Items (color = color)]"
      - return: {left: "[Search for Items:count]"}
  copy:
    expose: true
    parameters: {color: Color}
    actions:
      - copy_list: "[Search for Items (color = color):sorted by name]"
        fields: {parent: "[This Item]", tags: {add: copy}}
      - return:
          copies: "[Result of step 1:count]"
          parents: "[Result of step 1's parent]"
          all: "[Search for Items:count]"
  slug:
    expose: true
    parameters: {item: Item, text: text}
    actions:
      - set_slug: "[item]"
        slug: "[text]"
      - return: {slug: "[Result of step 1]", read: "[item's Slug]"}
  stop:
    expose: true
    parameters: {stop: yes/no}
    actions:
      - create: Item
        fields: {name: one}
      - terminate: true
        only_when: stop
      - create: Item
        fields: {name: two}
      - return: {done: true}
  all-items:
    expose: true
    actions:
      - return: {items: "[Search for Items]", count: "[Search for Items:count]"}
  returns-early:
    expose: true
    actions:
      - return: {first: 1}
      - create: Item
        fields: {name: never}
  chain:
    expose: true
    parameters: {skip: yes/no}
    actions:
      - create: Item
        fields: {name: a, price: 2}
      - create: Item
        only_when: not skip
        fields: {name: b, parent: "[Result of step 1]", price: "[Result of step 1's price + 1]"}
      - change: "[Result of step 1]"
        fields: {name: "a, child of nothing; b is [Result of step 2's name]"}
      - return:
          b parent name: "[Result of step 2's parent's name]"
          a name: "[Result of step 3's name]"
          skipped: "[Result of step 2 is empty]"
          prices: "[Search for Items:each item's price:sum]"
"""


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP.replace("only_when: not skip", "only_when: skip is no"))


def test_create_applies_defaults_and_returns_the_thing(app: App) -> None:
    out = app.run("create", json={"name": "Lamp"})
    item = app.things("Item")[0]
    assert out == {
        "id": item["_id"],
        "qty": 1,
        "color": "Red",
        "when": "2024-01-02T00:00:00.000Z",
        "by": "admin_user_wfactions_test",  # an admin token's things, as in the Data API
    }
    assert item["name"] == "Lamp" and "price" not in item
    assert item["tags"] == ["new", "Lamp"]
    assert item["Created By"] == "admin_user_wfactions_test"


def test_change_a_thing(app: App) -> None:
    item = app.thing("Item", name="x", price=1)
    assert app.run("change", json={"item": item, "price": 9}) == {"same": True, "price": 9}
    changed = app.things("Item")[0]
    assert (changed["name"], changed["price"], changed["color"]) == ("changed to 9", 9, "Blue")
    r = app.post("change", json={"price": 9})
    body = assert_shape_a(r, 400, "ERROR")
    assert body["body"]["message"] == (
        "Workflow change, step 1 (Make changes to a thing): the thing to change is empty"
    )


def test_list_changes(app: App) -> None:
    item = app.thing("Item", name="x", tags=["a", "b"])

    def tags(**sent: object) -> object:
        return app.run("tags", json={"item": item, **sent})["tags"]

    assert tags(add="c") == ["a", "b", "c"]
    assert tags(add="a") == ["a", "b", "c"]  # not twice
    assert tags(remove="b") == ["a", "c"]
    assert tags(more=["d", "a", "e"]) == ["a", "c", "d", "e"]
    assert tags(less=["a", "e", "zz"]) == ["c", "d"]
    assert tags(clear=True) == []
    assert tags(add="z") == ["z"]


def test_change_a_list_of_things_binds_this(app: App) -> None:
    for name, price, color in (("a", 10, "Red"), ("b", 20, "Blue"), ("c", 30, "Red")):
        app.thing("Item", name=name, price=price, color=color)
    out = app.run("discount", json={"color": "Red"})
    assert out == {"count": 2, "names": ["a (sale)", "c (sale)"]}
    assert [(i["name"], i["price"]) for i in app.things("Item", sort_field="name")] == [
        ("a (sale)", 5),
        ("b", 20),
        ("c (sale)", 15),
    ]
    assert app.run("discount", json={"color": "Green"}) == {"count": 0, "names": []}


def test_delete_and_delete_a_list(app: App) -> None:
    a = app.thing("Item", name="a", color="Red")
    app.thing("Item", name="b", color="Blue")
    app.thing("Item", name="c", color="Blue")
    assert app.run("delete", json={"item": a}) == {"left": 2}
    assert app.run("delete", json={}) == {"left": 2}  # deleting nothing does nothing
    assert app.run("delete-color", json={"color": "Blue"}) == {"left": 0}


def test_copy_a_list_of_things(app: App) -> None:
    a = app.thing("Item", name="a", price=1, color="Green", tags=["x"])
    b = app.thing("Item", name="b", price=2, color="Green")
    app.thing("Item", name="c", color="Blue")
    out = app.run("copy", json={"color": "Green"})
    assert out == {"copies": 2, "parents": [a, b], "all": 5}
    copies = [i for i in app.things("Item", sort_field="name") if "parent" in i]
    assert [(c["name"], c["price"], c["tags"], c["parent"]) for c in copies] == [
        ("a", 1, ["x", "copy"], a),
        ("b", 2, ["copy"], b),
    ]


def test_copy_refuses_more_than_100(app: App) -> None:
    env = app.env
    from burble.auth.actor import ADMIN

    env.things.bulk_create(
        ADMIN, env.definition.types["Item"], "\n".join('{"color": "Blue"}' for _ in range(101))
    )
    r = app.post("copy", json={"color": "Blue"})
    body = assert_shape_a(r, 400, "ERROR")
    assert body["body"]["message"] == (
        "Workflow copy, step 1 (Copy a list of things): the list has 101 things; at most 100 "
        "can be copied at once"
    )
    assert len(app.things("Item", limit="100", cursor="100")) == 1  # still 101: nothing copied


def test_set_a_slug(app: App) -> None:
    a = app.thing("Item", name="a")
    b = app.thing("Item", name="b")
    c = app.thing("Item", name="c")
    assert app.run("slug", json={"item": a, "text": "  Red Bike! 2024 "}) == {
        "slug": "red-bike-2024",
        "read": "red-bike-2024",
    }
    assert app.run("slug", json={"item": b, "text": "red bike 2024"})["slug"] == "red-bike-2024-1"
    assert app.run("slug", json={"item": c, "text": "Red--Bike 2024"})["slug"] == "red-bike-2024-2"
    # A thing keeps its own slug when set again.
    assert app.run("slug", json={"item": a, "text": "red bike 2024"})["slug"] == "red-bike-2024"
    assert [i["Slug"] for i in app.things("Item", sort_field="name")] == [
        "red-bike-2024",
        "red-bike-2024-1",
        "red-bike-2024-2",
    ]
    r = app.post("slug", json={"item": a, "text": "!!!"})
    assert "has no letters or digits" in assert_shape_a(r, 400, "ERROR")["body"]["message"]


def test_terminate(app: App) -> None:
    assert app.run("stop", json={"stop": True}) == {}
    assert [i["name"] for i in app.things("Item")] == ["one"]  # kept: not an error
    assert app.run("stop", json={"stop": False}) == {"done": True}
    assert sorted(i["name"] for i in app.things("Item")) == ["one", "one", "two"]


def test_returned_lists_hold_at_most_50_items(app: App) -> None:
    from burble.auth.actor import ADMIN

    env = app.env
    env.things.bulk_create(
        ADMIN, env.definition.types["Item"], "\n".join('{"name": "x"}' for _ in range(60))
    )
    out = app.run("all-items")
    assert out["count"] == 60 and len(out["items"]) == 50


def test_return_data_ends_the_workflow(app: App) -> None:
    assert app.run("returns-early") == {"first": 1}
    assert app.things("Item") == []


def test_result_of_step_chains_and_skipped_steps(app: App) -> None:
    assert app.run("chain", json={"skip": False}) == {
        "b parent name": "a, child of nothing; b is b",
        "a name": "a, child of nothing; b is b",
        "skipped": False,
        "prices": 5,
    }
    assert app.run("chain", json={"skip": True}) == {
        "b parent name": None,
        "a name": "a, child of nothing; b is ",
        "skipped": True,
        "prices": 7,
    }
