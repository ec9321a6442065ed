"""Privacy rules as SQL for one caller (DESIGN §6): a search gets the `find` condition in its
WHERE (so `count` and `remaining` are exact and a page is one query), and one flag column per
rule that grants views, from which hidden fields are masked; writes check their permission on
the row itself, in the write's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from burble.appdef.model import Field, KeyStyle, Permission
from burble.expr import Expr, SqlContext, to_sql
from burble.expr.ast import Now, children
from burble.privacy.rules import Rule, TypeRules

THIS = "t0"  # the alias of the searched table in every query privacy takes part in


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of SQL with its `?` parameters."""

    sql: str
    params: tuple[object, ...] = ()


TRUE = Fragment("1 = 1")
FALSE = Fragment("1 = 0")


class Policy:
    """What does not depend on the caller, worked out once per type (and key style): the rules,
    which fields each combination of view flags shows, which keys it hides."""

    def __init__(self, type_rules: TypeRules, keys: KeyStyle) -> None:
        self.type_rules = type_rules
        self.dtype = type_rules.dtype
        self.rules: tuple[Rule, ...] = type_rules.rules or ()
        # Views: rules applying to everyone add to the baseline; the others need a flag.
        always: set[Field] = set()
        self.flagged: tuple[Rule, ...] = ()
        flagged: list[Rule] = []
        for rule in self.rules:
            if not rule.views_anything:
                continue
            if rule.condition is None:
                always.update(f for f in self.dtype.fields if rule.views(f))
            else:
                flagged.append(rule)
        self.always = frozenset(always)
        self.flagged = tuple(flagged)
        self.key = {
            f: (f.name if keys is KeyStyle.DISPLAY else f.id_key) for f in self.dtype.fields
        }
        # A condition that reads the current date/time compiles anew for every request.
        self.uses_now = any(r.condition is not None and _uses_now(r.condition) for r in self.rules)
        self._visible: dict[tuple[bool, ...], frozenset[Field]] = {}
        self._hidden: dict[tuple[bool, ...], tuple[str, ...]] = {}
        self._hidden_raw: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def visible_fields(self, flags: Sequence[Any]) -> frozenset[Field]:
        key = tuple(bool(f) for f in flags)
        found = self._visible.get(key)
        if found is None:
            visible = set(self.always)
            for rule, flag in zip(self.flagged, key, strict=True):
                if flag:
                    visible.update(f for f in self.dtype.fields if rule.views(f))
            found = self._visible[key] = frozenset(visible)
        return found

    def hidden_keys(self, flags: Sequence[Any]) -> tuple[str, ...]:
        """The keys `mask` removes for these flags (a user's `authentication` is for admins).
        `flags` may be the flag columns of a row as read: kept by their values."""
        raw = flags if type(flags) is tuple else tuple(flags)
        found = self._hidden_raw.get(raw)
        if found is None:
            key = tuple(bool(f) for f in raw)
            found = self._hidden.get(key)
            if found is None:
                visible = self.visible_fields(key)
                hidden = [k for field, k in self.key.items() if field not in visible]
                found = self._hidden[key] = (*hidden, "authentication", "user_signed_up")
            if len(self._hidden_raw) < 256:
                self._hidden_raw[raw] = found
        return found


def _uses_now(expr: Expr) -> bool:
    return isinstance(expr, Now) or any(_uses_now(c) for c in children(expr))


class Access:
    """What one caller who is not an admin may do with one type's things. Its SQL is compiled
    on first use and kept: an `Access` may serve many requests of the same caller (see
    `AccessCache`)."""

    def __init__(
        self, type_rules: TypeRules, ctx: SqlContext, keys: KeyStyle, policy: Policy | None = None
    ) -> None:
        self.policy = policy if policy is not None else Policy(type_rules, keys)
        self.dtype = type_rules.dtype
        self._rules = self.policy.rules
        self._ctx = ctx
        self._conditions: dict[Permission, Fragment] = {}
        self._rule_sql: dict[int, Fragment] = {}
        self._flags: list[Fragment] | None = None

    @property
    def has_rules(self) -> bool:
        return bool(self._rules)

    def _condition(self, rule: Rule) -> Fragment:
        if rule.condition is None:
            return TRUE
        found = self._rule_sql.get(id(rule))
        if found is None:
            # to_sql never yields NULL, so the bare predicate is safe under NOT and leaves the
            # columns visible to the query planner (an index on `owner` serves `owner = ?`).
            sql, params = to_sql(rule.condition, self._ctx)
            found = self._rule_sql[id(rule)] = Fragment(f"({sql})", tuple(params))
        return found

    def condition(self, permission: Permission) -> Fragment:
        """SQL true for the things this caller holds `permission` on."""
        found = self._conditions.get(permission)
        if found is None:
            found = self._conditions[permission] = self._compile(permission)
        return found

    def _compile(self, permission: Permission) -> Fragment:
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
        if self._flags is None:
            out = []
            for rule in self.policy.flagged:
                cond = self._condition(rule)
                out.append(Fragment(f"CASE WHEN {cond.sql} THEN 1 ELSE 0 END", cond.params))
            self._flags = out
        return list(self._flags)

    def visible_fields(self, flags: Sequence[Any]) -> frozenset[Field]:
        return self.policy.visible_fields(flags)

    def mask(self, thing: dict[str, Any], flags: Sequence[Any]) -> dict[str, Any]:
        """The thing without the fields this caller may not view (built-ins stay; a user's
        `authentication` is for admins only)."""
        for key in self.policy.hidden_keys(flags):
            thing.pop(key, None)
        return thing

    def searchable(self, field: Field) -> bool:
        """May this caller constrain or sort on `field`? Only when every rule that lets them
        find things also lets them view it — otherwise a search would reveal hidden values."""
        if field not in self.policy.key:
            return True  # built-in fields
        return all(rule.views(field) for rule in self._rules if rule.grants(Permission.FIND))


def access_for(
    type_rules: TypeRules,
    user_id: str | None,
    now_ms: int,
    dialect: Any,
    keys: KeyStyle,
    policy: Policy | None = None,
) -> Access:
    ctx = SqlContext(dialect=dialect, this_alias=THIS, current_user_id=user_id, now_ms=now_ms)
    return Access(type_rules, ctx, keys, policy)


class AccessCache:
    """`Access` objects by (type, caller), so a caller's privacy SQL is compiled once, not on
    every request. Compiling reads no data (a rule's `Current User's ...` stays a subquery), so
    a cached `Access` is as good as a new one; only a rule reading the current date/time is
    compiled anew each time. One cache belongs to one definition's compiled rules: a deploy
    builds new ones. Bounded: emptied when it holds `max_entries`."""

    def __init__(
        self,
        rules: Mapping[str, TypeRules],
        dialect: Any,
        keys: KeyStyle,
        max_entries: int = 10_000,
    ) -> None:
        self._rules = rules
        self._dialect = dialect
        self._keys = keys
        self._max = max_entries
        self._policies: dict[str, Policy] = {}
        self._cache: dict[tuple[str, str | None], Access] = {}

    def policy(self, type_name: str) -> Policy:
        found = self._policies.get(type_name)
        if found is None:
            found = self._policies[type_name] = Policy(self._rules[type_name], self._keys)
        return found

    def access(self, type_name: str, user_id: str | None, now_ms: int) -> Access:
        key = (type_name, user_id)
        found = self._cache.get(key)
        if found is not None:
            return found
        policy = self.policy(type_name)
        access = access_for(
            self._rules[type_name], user_id, now_ms, self._dialect, self._keys, policy
        )
        if not policy.uses_now:
            if len(self._cache) >= self._max:
                self._cache.clear()
            self._cache[key] = access
        return access

    def __len__(self) -> int:
        return len(self._cache)
