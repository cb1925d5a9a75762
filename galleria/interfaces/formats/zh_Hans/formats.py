"""zh-Hans number grouping: thousands with a comma (3,484,124), as Chinese financial statements write numbers.

Only `intcomma` (force_grouping) uses this: USE_THOUSAND_SEPARATOR stays False, so numbers in form inputs and
plain `{{ n }}` output are never grouped (an input value "3,484,124" would not parse back)."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
