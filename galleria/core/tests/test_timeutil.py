import datetime as dt

from galleria.core import timeutil


def test_mall_local_date_crosses_midnight_in_shanghai():
    just_before = dt.datetime(2026, 11, 22, 15, 59, 59, tzinfo=dt.UTC)  # 23:59:59 in Shanghai
    just_after = dt.datetime(2026, 11, 22, 16, 0, 0, tzinfo=dt.UTC)  # 00:00:00 next day
    assert timeutil.local_date(just_before, "Asia/Shanghai") == dt.date(2026, 11, 22)
    assert timeutil.local_date(just_after, "Asia/Shanghai") == dt.date(2026, 11, 23)


def test_local_day_bounds_are_utc_instants():
    start, end = timeutil.local_day_bounds(dt.date(2026, 11, 23), "Asia/Shanghai")
    assert start == dt.datetime(2026, 11, 22, 16, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=1)
