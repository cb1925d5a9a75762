"""The console home: member KPIs and growth charts of the scope."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.interfaces.common import scope_of
from galleria.members.selectors import member_stats
from galleria.members.types import JoinChannel
from galleria.sales.selectors import active_member_count

from ..helpers import console_tz, console_view


@console_view(perms.DASHBOARD_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    tz_name = console_tz(request)
    stats = member_stats(mall_group_id=scope.mall_group_id, tz_name=tz_name)
    channel_labels = dict(JoinChannel.choices)
    charts = {
        "by_channel": {
            "items": [{"name": str(channel_labels.get(c, c)), "value": n} for c, n in stats.by_channel],
        },
        "by_mall": {
            "labels": [name for name, _n in stats.by_mall],
            "values": [n for _name, n in stats.by_mall],
        },
        "daily": {
            "labels": [formats.date_format(day, "m-d") for day, _n in stats.daily],
            "values": [n for _day, n in stats.daily],
        },
    }
    last_30 = sum(n for _day, n in stats.daily)
    active_30d = active_member_count(mall_group_id=scope.mall_group_id, since=timeutil.now() - dt.timedelta(days=30))
    return render(
        request,
        "console/home.html",
        {
            "nav": "home",
            "stats": stats,
            "charts": charts,
            "last_30": last_30,
            "active_30d": active_30d,
            "tz_display": str(timeutil.zone(tz_name)),
        },
    )
