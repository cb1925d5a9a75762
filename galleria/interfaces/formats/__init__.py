"""Our own locale formats (settings.FORMAT_MODULE_PATH), read before Django's: only what we change is defined.

Django's zh_Hans formats group numbers by 4 with no separator, so `intcomma` printed 3484124 on Chinese pages.
Chinese business and finance documents group by thousands with a comma (3,484,124), as English does."""
