"""Privacy rules as SQL for one caller (DESIGN §6): a search gets the `find` condition in its
WHERE (so `count` and `remaining` are exact and a page is one query), and one flag column per
rule that grants views, from which hidden fields are masked; writes check their permission on
the row itself, in the write's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from burble.appdef.model import Field, KeyStyle, Permission
from burble.expr import SqlContext, to_sql
from burble.privacy.rules import Rule, TypeRules

THIS = "t0"  # the alias of the searched table in every query privacy takes part in


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of SQL with its `?` parameters."""

    sql: str
    params: tuple[object, ...] = ()


TRUE = Fragment("1 = 1")
FALSE = Fragment("1 = 0")


class Access:
    """What one caller who is not an admin may do with one type's things."""

    def __init__(self, type_rules: TypeRules, ctx: SqlContext, keys: KeyStyle) -> None:
        self.dtype = type_rules.dtype
        self._rules = type_rules.rules or ()
        self._ctx = ctx
        # Views: rules applying to everyone add to the baseline; the others need a flag.
        self._always: set[Field] = set()
        self._flagged: list[Rule] = []
        for rule in self._rules:
            if not rule.views_anything:
                continue
            if rule.condition is None:
                self._always.update(f for f in self.dtype.fields if rule.views(f))
            else:
                self._flagged.append(rule)
        self._key = {
            f: (f.name if keys is KeyStyle.DISPLAY else f.id_key) for f in self.dtype.fields
        }

    @property
    def has_rules(self) -> bool:
        return bool(self._rules)

    def _condition(self, rule: Rule) -> Fragment:
        if rule.condition is None:
            return TRUE
        # to_sql never yields NULL, so the bare predicate is safe under NOT and leaves the
        # columns visible to the query planner (an index on `owner` serves `owner = ?`).
        sql, params = to_sql(rule.condition, self._ctx)
        return Fragment(f"({sql})", tuple(params))

    def condition(self, permission: Permission) -> Fragment:
        """SQL true for the things this caller holds `permission` on."""
        parts: list[Fragment] = []
        for rule in self._rules:
            if not rule.grants(permission):
                continue
            if rule.condition is None:
                return TRUE
            parts.append(self._condition(rule))
        if not parts:
            return FALSE
        return Fragment(
            "(" + " OR ".join(p.sql for p in parts) + ")",
            tuple(x for p in parts for x in p.params),
        )

    def view_flags(self) -> list[Fragment]:
        """Select-list expressions, one per conditional rule that grants views."""
        out = []
        for rule in self._flagged:
            cond = self._condition(rule)
            out.append(Fragment(f"CASE WHEN {cond.sql} THEN 1 ELSE 0 END", cond.params))
        return out

    def visible_fields(self, flags: Sequence[Any]) -> set[Field]:
        visible = set(self._always)
        for rule, flag in zip(self._flagged, flags, strict=True):
            if flag:
                visible.update(f for f in self.dtype.fields if rule.views(f))
        return visible

    def mask(self, thing: dict[str, Any], flags: Sequence[Any]) -> dict[str, Any]:
        """The thing without the fields this caller may not view (built-ins stay; a user's
        `authentication` is for admins only)."""
        visible = self.visible_fields(flags)
        for field, key in self._key.items():
            if field not in visible:
                thing.pop(key, None)
        thing.pop("authentication", None)
        thing.pop("user_signed_up", None)
        return thing

    def searchable(self, field: Field) -> bool:
        """May this caller constrain or sort on `field`? Only when every rule that lets them
        find things also lets them view it — otherwise a search would reveal hidden values."""
        if field not in self._key:
            return True  # built-in fields
        return all(rule.views(field) for rule in self._rules if rule.grants(Permission.FIND))


def access_for(
    type_rules: TypeRules, user_id: str | None, now_ms: int, dialect: Any, keys: KeyStyle
) -> Access:
    ctx = SqlContext(dialect=dialect, this_alias=THIS, current_user_id=user_id, now_ms=now_ms)
    return Access(type_rules, ctx, keys)
