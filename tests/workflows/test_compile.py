"""Workflows are checked when the definition loads: every problem with its file, line and
path, reported by `burble check` (runtime.definition_problems) and refused by `serve`."""

from __future__ import annotations

import textwrap

import pytest

from burble.appdef.load import parse_app
from burble.errors import Problem
from burble.runtime import definition_problems
from burble.workflows import compile_workflows, default_registry

HEAD = """\
name: wfcheck
settings:
  workflow_api: true
option_sets:
  Color: [Red, Green]
types:
  Item:
    fields: {name: text, price: number, tags: list of texts, color: Color}
"""


def problems(body: str) -> list[Problem]:
    return definition_problems(HEAD + textwrap.dedent(body), "app.yaml")


def one(body: str) -> Problem:
    found = problems(body)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_a_clean_definition_has_no_problems() -> None:
    assert (
        problems(
            """
        workflows:
          ok:
            parameters: {name: text, n: {type: number, optional: true}}
            only_when: n > 1 or n is empty
            actions:
              - create: Item
                fields: {name: "Item [name]", price: "[n]", tags: [a, "[name]"], color: Red}
              - change: "[Result of step 1]"
                fields: {tags: {add list: "[Result of step 1's tags]"}}
              - return: {id: "[Result of step 2 (Make changes to a thing)'s unique id]"}
        """
        )
        == []
    )


@pytest.mark.parametrize(
    ("body", "message", "line", "path"),
    [
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                    fields: {pric: "[1]"}
            """,
            "unknown field 'pric' of Item (did you mean 'price'?)",
            14,
            "workflows.w.actions[0].fields.pric",
        ),
        (
            """
            workflows:
              w:
                parameters: {name: text}
                actions:
                  - create: Item
                    fields:
                      price: "[name]"
            """,
            "this expression gives a text; a number is needed here",
            16,
            "workflows.w.actions[0].fields.price",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - return: {id: "[Result of step 2's unique id]"}
                  - create: Item
            """,
            "there is no step 2 before this one (column 17 of the value)",
            13,
            "workflows.w.actions[0].return.id",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - delete: "[Search for Items:first item]"
                  - return: {x: "[Result of step 1]"}
            """,
            "step 1 (Delete thing) has no result (column 17 of the value)",
            14,
            "workflows.w.actions[1].return.x",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                  - return: {x: "[Result of step 1 (Delete thing)]"}
            """,
            "step 1 is 'Create a new thing', not 'Delete thing' (column 20 of the value)",
            14,
            "workflows.w.actions[1].return.x",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - make: Item
            """,
            "unknown action: an action is a mapping with one of create, change, change_list, "
            "delete, delete_list, copy_list, set_slug, return, terminate, trigger, sign_up, log_in, "
            "log_out, log_out_other_sessions, change_current_user, create_account, "
            "update_credentials, reset_password_token, reset_password, send_email, schedule, "
            "schedule_on_list, cancel_scheduled, cancel_scheduled_list, set_recurring",
            13,
            "workflows.w.actions[0]",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                    delete: "[Search for Items:first item]"
            """,
            "an action has one action key; this one has create and delete",
            13,
            "workflows.w.actions[0]",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                    feilds: {}
            """,
            "unknown option 'feilds' of create (it takes fields, only_when)",
            14,
            "workflows.w.actions[0].feilds",
        ),
        (
            """
            workflows:
              w:
                parameters: {item: Item}
                actions:
                  - change: [item]
            """,
            'write expressions in quotes: "[item]" (YAML reads [item] as a list)',
            14,
            "workflows.w.actions[0].change",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                    fields: {price: "[1] dollars"}
            """,
            "text with [expressions] inside is a text; a number is needed here: write the "
            'whole value as one "[expression]"',
            14,
            "workflows.w.actions[0].fields.price",
        ),
        (
            """
            workflows:
              w:
                only_when: Search for Items:count
                actions: []
            """,
            "a condition must be yes/no; this expression is a number (column 1 of the condition)",
            12,
            "workflows.w.only_when",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                    fields: {color: Purple}
            """,
            "'Purple' is not a Color",
            14,
            "workflows.w.actions[0].fields.color",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                    fields: {tags: {add: a, remove: b}}
            """,
            "one list change per field: add, remove, add list, remove list, clear",
            14,
            "workflows.w.actions[0].fields.tags",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                    fields: {name: {add: a}}
            """,
            "add: list changes apply to list fields only",
            14,
            "workflows.w.actions[0].fields.name",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: User
            """,
            'a User is created by signing up or with "Create an account for someone else" '
            "(account actions), not with create",
            13,
            "workflows.w.actions[0].create",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - change: "[Search for Items]"
            """,
            "expected a thing; this expression gives a list of Item",
            13,
            "workflows.w.actions[0].change",
        ),
        (
            """
            workflows:
              w:
                response: text
                actions:
                  - return: {a: 1}
            """,
            'this workflow answers text: `return: "text with [expressions]"`',
            14,
            "workflows.w.actions[0].return",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - trigger: nope
            """,
            "unknown custom event 'nope'",
            13,
            "workflows.w.actions[0].trigger",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - trigger: e
            custom_events:
              e:
                parameters: {n: number}
                actions: []
            """,
            "custom event e needs parameter 'n'",
            13,
            "workflows.w.actions[0].parameters",
        ),
        (
            """
            custom_events:
              e:
                return: {total: number}
                actions:
                  - return: {totl: 1}
            """,
            "'totl' is not a value this custom event returns (its `return:` declares: total)",
            14,
            "custom_events.e.actions[0].return.totl",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - trigger: e
                  - return: {x: "[Result of step 1's sum]"}
            custom_events:
              e:
                return: {total: number}
            """,
            "step 1 (Trigger a custom event) returns no value 'sum' (column 21 of the value)",
            14,
            "workflows.w.actions[1].return.x",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - change_list: "[Search for Items]"
                    fields: {price: "[This Item's pric]"}
            """,
            "unknown field 'pric' of Item (did you mean 'price'?) (column 14 of the value)",
            14,
            "workflows.w.actions[0].fields.price",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                    fields: {price: "[This Item's price]"}
            """,
            "'This Item' is not available here: there is no thing in this context "
            "(column 2 of the value)",
            14,
            "workflows.w.actions[0].fields.price",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - terminate: false
            """,
            "write `terminate: true` (with `only_when:` to stop only sometimes)",
            13,
            "workflows.w.actions[0].terminate",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - create: Item
                    fields: {name: "[unclosed"}
            """,
            "this '[' has no matching ']' (column 1 of the value)",
            14,
            "workflows.w.actions[0].fields.name",
        ),
        (
            """
            workflows:
              w:
                actions:
                  - return: {t: [a, 1]}
            """,
            "the items of a list must all be of one type",
            13,
            "workflows.w.actions[0].return.t",
        ),
        (
            """
            workflows:
              has space:
                actions: []
            """,
            "'has space' cannot be part of a URL: use letters, digits, '-' and '_'",
            11,
            "workflows.has space",
        ),
        (
            """
            workflows:
              w:
                parameters: {api_token: text}
            """,
            "'api_token' is the query parameter for tokens; choose another name",
            12,
            "workflows.w.parameters.api_token",
        ),
        (
            """
            workflows:
              w:
                parameters: {n: numbr}
            """,
            "unknown parameter type 'numbr': use a Bubble field type, a data type, an option "
            "set, or 'list of ...'",
            12,
            "workflows.w.parameters.n",
        ),
    ],
)
def test_problems_are_located(body: str, message: str, line: int, path: str) -> None:
    found = one(body)
    assert (found.message, found.line, found.path, found.file) == (message, line, path, "app.yaml")


def test_every_problem_is_reported() -> None:
    found = problems(
        """
        workflows:
          w:
            actions:
              - create: Item
                fields: {pric: 1, name: "[nope]"}
              - bogus: 1
        """
    )
    assert [p.path for p in found] == [
        "workflows.w.actions[0].fields.pric",
        "workflows.w.actions[0].fields.name",
        "workflows.w.actions[1]",
    ]


def test_shape_problems_come_first() -> None:
    found = problems(
        """
        workflows:
          w:
            auth: everyone
            response: xml
            parameters: {p: {type: text, in: url}}
        """
    )
    assert sorted((p.path, p.message) for p in found) == [
        ("workflows.w.auth", "Input should be 'none', 'user' or 'admin'"),
        ("workflows.w.parameters.p.in", "Input should be 'body' or 'query'"),
        (
            "workflows.w.response",
            "Input should be 'json' or 'text' or Input should be a valid dictionary or "
            "instance of RawContentType or Input should be a valid dictionary or instance of "
            "RawRedirect",
        ),
    ]


def test_yaml_dates_are_dates() -> None:
    definition = parse_app(
        HEAD.replace("color: Color}", "color: Color, when: date}")
        + textwrap.dedent(
            """
            workflows:
              w:
                actions:
                  - create: Item
                    fields: {when: 2024-01-02}
                  - return: {at: 2024-01-02T10:00:00Z}
            """
        )
    )
    compiled, found = compile_workflows(definition, default_registry())
    assert found == []
    create, ret = (s.action for s in compiled.api["w"].steps)
    assert create.fields[0].value.value == 1704153600000  # type: ignore[attr-defined]
    assert ret.values[0][1].value == 1704189600000  # type: ignore[attr-defined]


def test_compiling_a_clean_definition_builds_steps() -> None:
    definition = parse_app(
        HEAD
        + textwrap.dedent(
            """
            workflows:
              w:
                parameters: {n: number}
                actions:
                  - create: Item
                    only_when: n > 1
                  - terminate: true
            """
        )
    )
    compiled, found = compile_workflows(definition, default_registry())
    assert found == []
    steps = compiled.api["w"].steps
    assert [(s.number, s.title, s.where) for s in steps] == [
        (1, "Create a new thing", "workflows.w.actions[0]"),
        (2, "Terminate this workflow", "workflows.w.actions[1]"),
    ]
    assert steps[0].only_when is not None and steps[1].only_when is None
