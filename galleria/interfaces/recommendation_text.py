"""The sentence that explains a recommendation, shared by the member app, the console and the merchant counter
(docs/recommendations.md, "Reasons"). It names only the member's own merchant, never another member."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from galleria.merchants.selectors import merchant_categories
from galleria.recommendations.types import MerchantPick, ReasonKind


def reason_text(pick: MerchantPick) -> str:
    if pick.reason == ReasonKind.OFTEN and pick.because:
        return _("Because you often visit %(name)s") % {"name": pick.because}
    if pick.reason == ReasonKind.ALSO and pick.because:
        return _("Members who shop at %(name)s also visit %(target)s") % {"name": pick.because, "target": pick.name}
    if pick.reason == ReasonKind.SEGMENT:
        return _("Popular with members like you")
    return _("Popular in the mall")


def category_label(code: str) -> str:
    return str(dict(merchant_categories()).get(code, code))


@dataclass(frozen=True)
class PickRow:
    pick: MerchantPick
    reason: str
    category: str

    @property
    def score(self) -> str:
        """The score as a decimal (similarity sum, or the segment's share of members who bought there)."""
        return f"{self.pick.score_ppm / 1_000_000:.3f}"


def rows(picks: tuple[MerchantPick, ...] | list[MerchantPick]) -> list[PickRow]:
    labels = dict(merchant_categories())
    return [PickRow(p, reason_text(p), str(labels.get(p.category, p.category))) for p in picks]
