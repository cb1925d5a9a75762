"""What the loyalty screens share: the mall group being configured, and readable points, rates, multipliers and
earn explanations (every credit says which rule it came from; this turns that into lines a person can read)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from galleria.core.money import format_cny
from galleria.interfaces.common import scope_of
from galleria.malls.models import MallGroup
from galleria.merchants.selectors import mall_group_list
from galleria.points.models import BehaviourEvent, Funder, RuleScope
from galleria.points.selectors import earn_rule_list
from galleria.tiers.selectors import tier_ladder

BP = 10000
CONCURRENT = gettext_lazy("Someone else saved this at the same time. Please try again.")


# ---------------------------------------------------------------------------------------------- the group


@dataclass(frozen=True)
class GroupContext:
    """The mall group a loyalty page configures. Group staff always get their own; platform admins choose one
    (`?group=<id>`, the first group by name when they have not chosen), and `options` feeds their picker."""

    group: MallGroup
    options: tuple[MallGroup, ...] = ()

    @property
    def id(self) -> int:
        return self.group.pk

    @property
    def query(self) -> str:
        """`?group=<id>` for links that leave the page (platform admins), else ""."""
        return f"?group={self.group.pk}" if self.options else ""


def group_context(request: HttpRequest, *, group_id: int | None = None) -> GroupContext:
    """The scope's group; for platform admins the group asked for (or `group_id`, taken from the object a URL
    names). A group outside the scope is a 404, like any object of another group."""
    scope = scope_of(request)
    if scope.mall_group_id is not None:
        if group_id is not None and group_id != scope.mall_group_id:
            raise Http404("group")
        group = mall_group_list(mall_group_id=scope.mall_group_id).first()
        if group is None:
            raise Http404("group")
        return GroupContext(group)
    options = tuple(mall_group_list(mall_group_id=None))
    if not options:
        raise Http404("group")
    wanted: Any = group_id if group_id is not None else request.GET.get("group") or request.POST.get("group")
    if wanted in (None, ""):
        return GroupContext(options[0], options)
    try:
        wanted_id = int(wanted)
    except (TypeError, ValueError) as exc:
        raise Http404("group") from exc
    chosen = next((g for g in options if g.pk == wanted_id), None)
    if chosen is None:
        raise Http404("group")
    return GroupContext(chosen, options)


# ---------------------------------------------------------------------------------------------- numbers


def _trim(value: Decimal, *, min_places: int = 0) -> str:
    text = format(value.normalize(), "f")
    if "." not in text and min_places:
        return text + "." + "0" * min_places
    return text


def multiplier_text(bp: int) -> str:
    """20000 → "×2.0", 12500 → "×1.25" (basis points of 1×)."""
    return "×" + _trim(Decimal(bp) / BP, min_places=1)


def multiplier_input(bp: int) -> str:
    """20000 → "2.0" for a form field."""
    return _trim(Decimal(bp) / BP, min_places=1)


def percent_text(bp: int) -> str:
    """200 → "2%", 1250 → "12.5%", 5 → "0.05%" (basis points)."""
    return _trim(Decimal(bp) / 100) + "%"


def percent_input(bp: int) -> str:
    return _trim(Decimal(bp) / 100)


def yuan_input(fen: int) -> str:
    """12800 → "128.00" for a form field (exact)."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


def rate_text(points: int, unit_fen: int) -> str:
    """ "1 point per ¥1.00", "3 points per ¥2.00"."""
    return ngettext("%(n)s point per %(amount)s", "%(n)s points per %(amount)s", points) % {
        "n": points,
        "amount": format_cny(unit_fen),
    }


def points_text(points: int) -> str:
    return ngettext("%(n)s point", "%(n)s points", abs(points)) % {"n": f"{points:,}"}


def funding_text(funder: str, merchant_share_bp: int) -> str:
    if funder == Funder.SPLIT:
        return _("Split: merchant %(merchant)s, mall %(mall)s") % {
            "merchant": percent_text(merchant_share_bp),
            "mall": percent_text(BP - merchant_share_bp),
        }
    return str(dict(Funder.choices).get(funder, funder))


def scope_label(scope: str) -> str:
    if scope == "group":
        return _("Group policy")
    return str(dict(RuleScope.choices).get(scope, scope))


def behaviour_label(event: str) -> str:
    return str(dict(BehaviourEvent.choices).get(event, event))


# ---------------------------------------------------------------------------------------------- explanations


@dataclass(frozen=True)
class ExplainRow:
    key: str  # stable: base, rate, base_points, tier, campaign, excluded, caps, points, funding
    label: str
    value: str
    note: str = ""
    tone: str = ""  # "" | "muted" | "warn" | "ok"


@dataclass(frozen=True)
class Names:
    """Names the explanation refers to by id or code: earn rules and tier levels of one group."""

    rules: Mapping[int, str] = field(default_factory=dict)
    tiers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_group(cls, group_id: int) -> Names:
        return cls(
            rules={rule.pk: rule.name for rule in earn_rule_list(mall_group_id=group_id)},
            tiers={level.code: level.name for level in tier_ladder(mall_group_id=group_id)},
        )


@dataclass(frozen=True)
class LineInfo:
    """A basket line as the simulator knows it, to say why a line was excluded."""

    sku: str
    category: str
    amount_fen: int


CAP_NOTES: dict[str, Promise] = {
    "min_spend": gettext_lazy("Below the minimum spend: no points."),
    "per_sale_cap": gettext_lazy("Limited by the cap per sale."),
    "daily_cap": gettext_lazy("Limited by the member's daily cap."),
}


def cap_note(capped_by: object) -> str:
    return str(CAP_NOTES.get(str(capped_by), str(capped_by)))


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def explain(
    explanation: Mapping[str, Any],
    *,
    names: Names,
    lines: Sequence[LineInfo] = (),
    excluded_categories: Sequence[str] = (),
    excluded_skus: Sequence[str] = (),
    caps: Mapping[str, int | None] | None = None,
    funding: str = "",
) -> list[ExplainRow]:
    """The earn explanation of `points.rules.earn` as readable rows. Unknown or missing keys are skipped, so old
    explanations (or other kinds of credit) never break a page."""
    if not isinstance(explanation, Mapping) or "base_fen" not in explanation:
        return []
    rows: list[ExplainRow] = []
    base = _int(explanation.get("base_fen"))
    excluded = [i for i in explanation.get("excluded_lines") or [] if isinstance(i, int)]
    rows.append(
        ExplainRow(
            "base",
            _("Eligible amount"),
            format_cny(base),
            _("what the member paid with money, excluded lines left out"),
        )
    )
    if excluded:
        parts = []
        for i in excluded:
            if 0 <= i < len(lines):
                line = lines[i]
                why = (
                    _("SKU excluded")
                    if line.sku and line.sku in excluded_skus
                    else _("category excluded")
                    if line.category in excluded_categories
                    else _("excluded")
                )
                label = line.sku or line.category or "—"
                parts.append(f"#{i + 1} {label} ({format_cny(line.amount_fen)}, {why})")
            else:
                parts.append(_("line %(n)s") % {"n": i + 1})
        rows.append(ExplainRow("excluded", _("Excluded lines"), "; ".join(parts), tone="warn"))
    rate = explanation.get("rate") if isinstance(explanation.get("rate"), Mapping) else {}
    assert isinstance(rate, Mapping)
    points, per_fen = _int(rate.get("points"), 0), _int(rate.get("per_fen"), 100) or 100
    source = str(rate.get("source") or "")
    if source.startswith("rule:"):
        rule_id = _int(source.split(":", 1)[1])
        rule_name = names.rules.get(rule_id, f"#{rule_id}")
        note = _("earn rule “%(name)s” (%(scope)s)") % {
            "name": rule_name,
            "scope": scope_label(str(rate.get("scope") or "")),
        }
    else:
        note = _("the group's base rate")
    rows.append(ExplainRow("rate", _("Rate"), rate_text(points, per_fen), note))
    exact = Fraction(base * points, per_fen)
    shown = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    rows.append(ExplainRow("base_points", _("Base points"), _trim(shown), _("eligible amount × rate")))
    tier = explanation.get("tier") if isinstance(explanation.get("tier"), Mapping) else {}
    assert isinstance(tier, Mapping)
    tier_bp = _int(tier.get("multiplier_bp"), BP) or BP
    tier_code = str(tier.get("code") or "")
    rows.append(
        ExplainRow(
            "tier",
            _("Tier multiplier"),
            multiplier_text(tier_bp),
            names.tiers.get(tier_code, tier_code) if tier_code else _("no tier"),
            tone="" if tier_bp > BP else "muted",
        )
    )
    campaign = explanation.get("campaign")
    if isinstance(campaign, Mapping):
        rows.append(
            ExplainRow(
                "campaign",
                _("Campaign"),
                multiplier_text(_int(campaign.get("multiplier_bp"), BP)),
                str(campaign.get("name") or ""),
                tone="ok",
            )
        )
    else:
        rows.append(ExplainRow("campaign", _("Campaign"), _("none"), _("no points campaign on this day"), "muted"))
    uncapped = _int(explanation.get("uncapped"))
    capped_by = explanation.get("capped_by")
    if capped_by:
        limit = (caps or {}).get(str(capped_by))
        note = cap_note(capped_by)
        if capped_by == "min_spend" and limit is not None:
            note = _("Below the minimum spend of %(amount)s: no points.") % {"amount": format_cny(limit)}
        elif limit is not None:
            note = f"{note} ({points_text(limit)})"
        rows.append(
            ExplainRow(
                "caps",
                _("Caps"),
                points_text(uncapped) + " → " + points_text(_int(explanation.get("points"))),
                note,
                tone="warn",
            )
        )
    else:
        rows.append(ExplainRow("caps", _("Caps"), _("not reached"), points_text(uncapped), tone="muted"))
    split = explanation.get("funding")
    funder = str(explanation.get("funder") or "")
    if funding:
        rows.append(ExplainRow("funding", _("Funded by"), funding))
    elif isinstance(split, Mapping) and (split.get("merchant") or split.get("mall")):
        rows.append(
            ExplainRow(
                "funding",
                _("Funded by"),
                _("mall %(mall)s · merchant %(merchant)s")
                % {"mall": _int(split.get("mall")), "merchant": _int(split.get("merchant"))},
            )
        )
    elif funder:
        rows.append(ExplainRow("funding", _("Funded by"), str(dict(Funder.choices).get(funder, funder))))
    rows.append(ExplainRow("points", _("Points earned"), points_text(_int(explanation.get("points"))), tone="ok"))
    return rows


def short_explanation(explanation: Mapping[str, Any], *, names: Names) -> str:
    """One line for a history table: "¥128.00 × 1 point per ¥1.00 · ×1.2 银卡 · ×2.0 会员日"."""
    if not isinstance(explanation, Mapping) or "base_fen" not in explanation:
        return ""
    rate = explanation.get("rate") if isinstance(explanation.get("rate"), Mapping) else {}
    assert isinstance(rate, Mapping)
    parts = [
        f"{format_cny(_int(explanation.get('base_fen')))} × "
        f"{rate_text(_int(rate.get('points')), _int(rate.get('per_fen'), 100) or 100)}"
    ]
    source = str(rate.get("source") or "")
    if source.startswith("rule:"):
        rule_id = _int(source.split(":", 1)[1])
        parts[0] += f" ({names.rules.get(rule_id, f'#{rule_id}')})"
    tier = explanation.get("tier") if isinstance(explanation.get("tier"), Mapping) else {}
    assert isinstance(tier, Mapping)
    tier_bp = _int(tier.get("multiplier_bp"), BP)
    if tier_bp and tier_bp != BP:
        code = str(tier.get("code") or "")
        parts.append(f"{multiplier_text(tier_bp)} {names.tiers.get(code, code)}".strip())
    campaign = explanation.get("campaign")
    if isinstance(campaign, Mapping):
        parts.append(f"{multiplier_text(_int(campaign.get('multiplier_bp'), BP))} {campaign.get('name') or ''}".strip())
    excluded = explanation.get("excluded_lines") or []
    if excluded:
        parts.append(ngettext("%(n)s line excluded", "%(n)s lines excluded", len(excluded)) % {"n": len(excluded)})
    if explanation.get("capped_by"):
        parts.append(cap_note(explanation["capped_by"]))
    return " · ".join(parts)
