"""Access matrix entries of recommendations (merged into tests/access_matrix.MATRIX): the member app's "为你推荐"
page and its personalisation switch; the console's recommendations page, the block switches and "train now".

The member's switch POST without a choice changes nothing (the page shows an error); the console's switches POST
without the page's marker changes nothing; "train now" trains the evidence group (or says there is nothing to train
on) — never a denial for a manager."""

from __future__ import annotations

from .access_matrix import NOT_ALLOWED, ROOT, Entry, action, app, console, page, public, r

GET_ONLY = public(NOT_ALLOWED)
VIEWERS = {"admin", "marketing", "service", ROOT}  # recommendations.view
MANAGERS = {"admin", "marketing", ROOT}  # recommendations.manage

MATRIX_RECOMMENDATIONS: dict[str, Entry] = {
    # member app
    "app:for_you": page(app(), post=GET_ONLY)(r("app:for_you")),
    "app:for_you_switch": action(app(), note="without a choice: nothing changes")(r("app:for_you_switch")),
    # console
    "console:recommendations": page(console(VIEWERS), post=GET_ONLY)(r("console:recommendations")),
    "console:recommendations_switches": action(console(MANAGERS), note="without the form's marker: unchanged")(
        r("console:recommendations_switches")
    ),
    "console:recommendations_train": action(console(MANAGERS))(r("console:recommendations_train")),
}
