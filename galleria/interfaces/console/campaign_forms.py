"""Console forms of campaigns (docs/marketing.md, "Campaigns"): the editor and the marketing settings. Times are
entered mall-local (the console renders in the mall's time zone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    segment = forms.TypedChoiceField(label=_("Segment"), coerce=int)
    holdout_percent = forms.IntegerField(
        label=_("Hold-out share of the segment (%)"),
        min_value=0,
        max_value=50,
        initial=10,
        help_text=_("Drawn at random when the campaign starts; they receive nothing, so the report can compare."),
    )
    send_inbox = forms.BooleanField(label=_("App inbox"), required=False, initial=True)
    send_sms = forms.BooleanField(
        label=_("SMS"), required=False, help_text=_("Only to members who agreed to marketing by SMS.")
    )
    send_email = forms.BooleanField(
        label=pgettext_lazy("marketing channel", "E-mail"),
        required=False,
        help_text=_("Only to members who agreed to marketing by e-mail; with a tracked link and an unsubscribe link."),
    )
    send_wechat = forms.BooleanField(
        label=_("WeChat subscribe message"),
        required=False,
        help_text=_("Only to members who agreed to WeChat marketing and accepted the template in the mini-program."),
    )
    send_push = forms.BooleanField(
        label=_("Browser notification"),
        required=False,
        help_text=_("To members who turned notifications on in the member app."),
    )
    title = forms.CharField(label=_("Title"), max_length=60)
    body = forms.CharField(label=_("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    sms_text = forms.CharField(
        label=_("SMS text"),
        max_length=60,
        required=False,
        help_text=_("Fills the approved marketing template after the title (at most 60 characters)."),
    )
    coupon = forms.TypedChoiceField(label=_("Coupon to give"), coerce=int, required=False, empty_value=None)
    scheduled_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: as soon as it is scheduled. Quiet hours delay it."),
    )
    measure_days = forms.IntegerField(label=_("Measure over (days)"), min_value=1, max_value=90, initial=14)

    def __init__(self, *args: Any, segments: Any = (), coupons: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [  # type: ignore[attr-defined]
            (s.pk, f"{s.name} ({s.last_count or 0:,})") for s in segments
        ]
        self.fields["coupon"].choices = [("", "—")] + [(t.pk, t.name) for t in coupons]  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        values = {
            "name": d["name"],
            "segment_id": d["segment"],
            "holdout_bp": d["holdout_percent"] * 100,
            "send_inbox": d["send_inbox"],
            "send_sms": d["send_sms"],
            "send_email": d["send_email"],
            "send_wechat": d["send_wechat"],
            "send_push": d["send_push"],
            "title": d["title"],
            "body": d["body"],
            "sms_text": d.get("sms_text") or "",
            "coupon_template_id": d.get("coupon"),
            "measure_days": d["measure_days"],
        }
        if d.get("scheduled_at"):
            values["scheduled_at"] = d["scheduled_at"]
        return values


def initial_of(c: Any) -> dict[str, Any]:
    return {
        "name": c.name,
        "segment": c.segment_id,
        "holdout_percent": c.holdout_bp // 100,
        "send_inbox": c.send_inbox,
        "send_sms": c.send_sms,
        "send_email": c.send_email,
        "send_wechat": c.send_wechat,
        "send_push": c.send_push,
        "title": c.title,
        "body": c.body,
        "sms_text": c.sms_text,
        "coupon": c.coupon_template_id,
        "scheduled_at": c.scheduled_at,
        "measure_days": c.measure_days,
    }


class MarketingSettingsForm(forms.Form):
    quiet_start = forms.TimeField(label=_("Quiet hours from"), widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_end = forms.TimeField(label=_("Quiet hours until"), widget=forms.TimeInput(attrs={"type": "time"}))
    weekly_cap = forms.IntegerField(
        label=_("Marketing messages per member per 7 days"), min_value=0, max_value=50, help_text=_("All channels.")
    )
    sms_cost_yuan = forms.DecimalField(
        label=_("Cost of one SMS (¥)"), min_value=0, max_value=10, decimal_places=2, max_digits=4
    )
