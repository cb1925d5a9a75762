"""Pure rules of journeys: the shape of a journey's definition (a list of steps, where a branch holds two lists),
its validation, the order steps run in, and the stable random split. No Django models, no database.

A definition is `{"steps": [step, …]}`; a step is a dict with a unique `id` and a `kind`:

- `wait` — `minutes` (1 minute to 90 days);
- `message` — `inbox` / `sms` / `email` / `wechat` / `push` (booleans, at least one), `title`, `body`, `sms_text`
  (SMS: ≤ 60 characters; a WeChat subscribe message shows the title and this text);
- `coupon` — `template_id`; `points` — `points` (1–100,000, funded by the mall); `tag` — `tag_id` (a manual tag);
- `branch` — `test` (`segment` with `segment_id`, `purchased`, or `random` with `percent` 1–99) and two step lists,
  `yes` and `no`; both continue with the step after the branch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from .types import StepKind, Test

MAX_STEPS = 40
MAX_DEPTH = 4
MAX_WAIT_MINUTES = 90 * 24 * 60
MAX_POINTS = 100_000
MAX_DAYS = 365


@dataclass(frozen=True)
class Node:
    step: Mapping[str, Any]
    next: str | None  # the step after this one on its path (None: the journey ends)
    depth: int


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def canonical(definition: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The definition cleaned to its known fields, and the problems found, keyed by step id ("" for the whole)."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    count = 0

    def steps_of(raw: Any, depth: int) -> list[dict[str, Any]]:
        nonlocal count
        out: list[dict[str, Any]] = []
        if not isinstance(raw, list):
            errors.setdefault("", _("A journey is a list of steps."))
            return out
        for item in raw:
            count += 1
            if not isinstance(item, Mapping):
                errors.setdefault("", _("A journey is a list of steps."))
                continue
            sid = str(item.get("id") or "").strip()[:12]
            if not sid or sid in seen:
                errors.setdefault("", _("Every step needs an id of its own."))
                continue
            seen.add(sid)
            step, problem = _step(item, sid, depth, steps_of)
            if problem:
                errors[sid] = problem
            out.append(step)
        return out

    steps = steps_of(definition.get("steps") if isinstance(definition, Mapping) else None, 1)
    if not steps and "" not in errors:
        errors[""] = _("Add at least one step.")
    if count > MAX_STEPS:
        errors[""] = _("A journey has at most %(n)s steps.") % {"n": MAX_STEPS}
    return {"steps": steps}, errors


def _step(item: Mapping[str, Any], sid: str, depth: int, steps_of: Any) -> tuple[dict[str, Any], str]:
    kind = str(item.get("kind") or "")
    step: dict[str, Any] = {"id": sid, "kind": kind}
    if kind == StepKind.WAIT:
        minutes = _int(item.get("minutes"))
        step["minutes"] = minutes or 0
        if minutes is None or not 1 <= minutes <= MAX_WAIT_MINUTES:
            return step, _("Wait from 1 minute to 90 days.")
    elif kind == StepKind.MESSAGE:
        step.update(
            inbox=bool(item.get("inbox")),
            sms=bool(item.get("sms")),
            email=bool(item.get("email")),
            wechat=bool(item.get("wechat")),
            push=bool(item.get("push")),
            title=" ".join(str(item.get("title") or "").split())[:200],
            body=str(item.get("body") or "").strip()[:4000],
            sms_text=str(item.get("sms_text") or "").strip()[:200],
        )
        if not any(step[c] for c in ("inbox", "sms", "email", "wechat", "push")):
            return step, _("Choose at least one channel.")
        if not step["title"] or len(step["title"]) > 60:
            return step, _("Give the message a title of up to 60 characters.")
        if not step["body"] or len(step["body"]) > 2000:
            return step, _("Write the message (at most 2,000 characters).")
        if step["sms"] and not 1 <= len(step["sms_text"]) <= 60:
            return step, _("Write the SMS text (at most 60 characters): it fills the approved template.")
    elif kind == StepKind.COUPON:
        step["template_id"] = _int(item.get("template_id"))
        if not step["template_id"]:
            return step, _("Choose a coupon.")
    elif kind == StepKind.POINTS:
        points = _int(item.get("points"))
        step["points"] = points or 0
        if points is None or not 1 <= points <= MAX_POINTS:
            return step, _("Grant 1 to 100,000 points.")
    elif kind == StepKind.TAG:
        step["tag_id"] = _int(item.get("tag_id"))
        if not step["tag_id"]:
            return step, _("Choose a tag.")
    elif kind == StepKind.BRANCH:
        test = str(item.get("test") or "")
        step["test"] = test
        problem = ""
        if test == Test.SEGMENT:
            step["segment_id"] = _int(item.get("segment_id"))
            if not step["segment_id"]:
                problem = _("Choose a segment.")
        elif test == Test.RANDOM:
            percent = _int(item.get("percent"))
            step["percent"] = percent or 0
            if percent is None or not 1 <= percent <= 99:
                problem = _("Send 1 to 99 percent down the yes branch.")
        elif test != Test.PURCHASED:
            problem = _("Choose what the branch asks.")
        if depth >= MAX_DEPTH:
            problem = _("Branches nest at most %(n)s deep.") % {"n": MAX_DEPTH}
        step["yes"] = steps_of(item.get("yes") or [], depth + 1)
        step["no"] = steps_of(item.get("no") or [], depth + 1)
        return step, problem
    else:
        return step, _("Unknown kind of step.")
    return step, ""


def flatten(definition: Mapping[str, Any]) -> dict[str, Node]:
    """Every step by id, with the step that follows it (a branch's lists continue after the branch)."""
    nodes: dict[str, Node] = {}

    def walk(steps: Sequence[Mapping[str, Any]], after: str | None, depth: int) -> None:
        for i, step in enumerate(steps):
            nxt = steps[i + 1]["id"] if i + 1 < len(steps) else after
            nodes[step["id"]] = Node(step, nxt, depth)
            if step["kind"] == StepKind.BRANCH:
                walk(step["yes"], nxt, depth + 1)
                walk(step["no"], nxt, depth + 1)

    walk(definition.get("steps", []), None, 1)
    return nodes


def first_step(definition: Mapping[str, Any]) -> str | None:
    steps = definition.get("steps") or []
    return str(steps[0]["id"]) if steps else None


def branch_target(node: Node, yes: bool) -> str | None:
    """Where a branch sends the member: the first step of the chosen list, or the step after the branch."""
    chosen = node.step["yes" if yes else "no"]
    return str(chosen[0]["id"]) if chosen else node.next


def in_split(journey_id: int, step_id: str, member_id: int, percent: int) -> bool:
    """A random split: a hash of (journey, step, member) below `percent` — random across members, stable for one
    member (a retry decides the same way)."""
    digest = hashlib.sha256(f"galleria-journey-split:{journey_id}:{step_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent


def references(definition: Mapping[str, Any]) -> dict[str, set[int]]:
    """The coupons, segments and tags the definition names (the service checks they belong to the group)."""
    out: dict[str, set[int]] = {"template_id": set(), "segment_id": set(), "tag_id": set()}
    for node in flatten(definition).values():
        for key in out:
            if node.step.get(key):
                out[key].add(int(node.step[key]))
    return out


def points_total(definition: Mapping[str, Any]) -> int:
    """The most points one member can receive on any path (what the publisher commits the mall to, per member)."""

    def path_max(steps: Sequence[Mapping[str, Any]]) -> int:
        total = 0
        for step in steps:
            if step["kind"] == StepKind.POINTS:
                total += int(step["points"])
            elif step["kind"] == StepKind.BRANCH:
                total += max(path_max(step["yes"]), path_max(step["no"]))
        return total

    return path_max(definition.get("steps", []))
