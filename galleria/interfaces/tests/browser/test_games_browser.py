"""Games in a real browser (issue #19, "Games"): a member opens the games list, spins the lucky wheel, the wheel turns
to the server's result — a coupon — and the coupon is in My coupons. The console's game page (odds, expected cost,
commitment) and draw log are shown on the way, and the check-in calendar. No CSP violation on any page. Screenshots
under var/screenshots/games/<screen>-<lang>.png (looked at by a person).

The game's seed is chosen before the first play (the test rewrites the commitment of the just-published game) so the
member's first spin lands on the coupon: the result is still the server's, computed by the published derivation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import template
from galleria.games import rules
from galleria.games.models import Commitment, Prize
from galleria.games.tests.helpers import game, member
from galleria.games.types import PrizeIn

from .screens import member_page, staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "games"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _seed_landing_on(g, m, prize_name: str) -> None:
    prizes = list(Prize.objects.filter(game=g, weight__gt=0).order_by("position", "pk"))
    slots = [rules.Slot(p.pk, p.weight) for p in prizes]
    total = sum(p.weight for p in prizes)
    target = next(i for i, p in enumerate(prizes) if p.name == prize_name)
    for n in range(1000):
        seed = f"{n:064x}"
        number = rules.draw_number(
            server_seed=seed, game_id=g.pk, member_id=m.pk, seq=1, client_seed="", total_weight=total
        )
        if rules.pick(slots, number) == target:
            Commitment.objects.filter(game=g).update(server_seed=seed, seed_hash=rules.seed_commitment(seed))
            return
    raise AssertionError("no seed found")


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_member_spins_the_wheel_wins_a_coupon_and_finds_it_in_my_coupons(browser, live_server, world, lang):
    t = template(world, name="¥20 无门槛券", kind="cash_off", value_fen=2000, threshold_fen=0)
    g = game(
        world,
        [
            PrizeIn(kind="points", name="88 积分", weight=30, inventory=None, points=88, cost_fen=88),
            PrizeIn(kind="coupon", name="¥20 券", weight=15, inventory=100, coupon_template_id=t.pk, cost_fen=2000),
            PrizeIn(kind="gift", name="限定公仔", weight=5, inventory=10, cost_fen=3900),
            PrizeIn(kind="thanks", name="谢谢参与", weight=50, inventory=None),
        ],
        title="冬日幸运大转盘",
        entry_points=0,
    )
    m = member(world)
    _seed_landing_on(g, m, "¥20 券")
    violations: list[str] = []
    app_ctx, app = member_page(browser, live_server, m, lang)
    watch(app, violations)
    try:
        app.goto(live_server.url + "/app/games/")
        expect(app.get_by_test_id("game-link")).to_have_count(1)
        shot(app, f"app-list-{lang}")
        app.get_by_test_id("game-link").first.click()
        app.wait_for_url(f"**/app/games/{g.pk}/")
        expect(app.get_by_test_id("game-wheel").locator("path")).to_have_count(4)
        expect(app.get_by_test_id("game-odds")).to_contain_text("15.00%")
        shot(app, f"app-wheel-{lang}")
        app.get_by_test_id("game-play").click()
        stage = app.get_by_test_id("game-stage")
        expect(stage).to_have_attribute("data-state", "done", timeout=10_000)
        expect(stage).to_have_attribute("data-slot", "1")  # the coupon's segment, decided by the server
        expect(app.get_by_test_id("game-result")).to_contain_text("¥20 券")
        expect(app.get_by_test_id("game-play")).to_be_disabled()  # the one free play of the day is used
        shot(app, f"app-won-{lang}")
        coupon = Coupon.objects.get(member=m)
        assert coupon.source == "game" and coupon.template_id == t.pk
        app.get_by_test_id("game-result-open").click()
        app.wait_for_url(re.compile(r".*/app/games/prizes/\d+/$"))
        expect(app.get_by_test_id("game-prize")).to_have_attribute("data-kind", "coupon")
        shot(app, f"app-prize-{lang}")
        app.get_by_test_id("game-to-coupons").click()
        app.wait_for_url("**/app/coupons/**")
        expect(app.get_by_test_id("my-coupon")).to_have_count(1)
        expect(app.get_by_test_id("my-coupons")).to_contain_text("¥20")
        shot(app, f"app-my-coupons-{lang}")
        app.goto(live_server.url + "/app/points/checkin/calendar/")
        expect(app.get_by_test_id("cal")).to_be_visible()
        shot(app, f"app-calendar-{lang}")
    finally:
        app_ctx.close()

    staff_ctx, staff = staff_page(browser, live_server, "marketing", lang)
    watch(staff, violations)
    try:
        staff.goto(live_server.url + f"/console/games/{g.pk}/")
        expect(staff.get_by_test_id("game-prize-percent")).to_have_count(4)
        expect(staff.get_by_test_id("game-prize-percent").nth(1)).to_have_text("15.00")
        shot(staff, f"console-game-{lang}")
        staff.get_by_test_id("game-draws").click()
        staff.get_by_test_id("game-verify").click()
        expect(staff.get_by_test_id("game-verify-report")).to_contain_text(re.compile(r"1"))
        expect(staff.get_by_test_id("game-draw-row")).to_have_count(1)
        shot(staff, f"console-draws-{lang}")
    finally:
        staff_ctx.close()
    assert violations == []


def test_a_blind_box_gift_is_picked_up_at_the_desk_with_its_code(browser, live_server, world):
    g = game(
        world,
        [PrizeIn(kind="gift", name="生肖盲盒公仔", weight=1, inventory=3, cost_fen=5900)],
        title="新年盲盒",
        kind="blind_box",
        colour="#7048e8",
        entry_points=0,
    )
    m = member(world)
    violations: list[str] = []
    app_ctx, app = member_page(browser, live_server, m, "zh-hans")
    watch(app, violations)
    try:
        app.goto(live_server.url + f"/app/games/{g.pk}/")
        expect(app.get_by_test_id("game-box")).to_have_count(6)
        shot(app, "app-blind-box-zh-hans")
        app.get_by_test_id("game-box").nth(4).click()
        stage = app.get_by_test_id("game-stage")
        expect(stage).to_have_attribute("data-state", "done", timeout=10_000)
        expect(app.locator(".gm-box.is-open")).to_have_count(1)
        shot(app, "app-blind-box-opened-zh-hans")
        app.get_by_test_id("game-result-open").click()
        code = app.get_by_test_id("game-pickup-code")
        expect(code).to_have_text(re.compile(r"^[2-9A-Z]{8}$"))
        expect(app.locator(".gm-qr svg")).to_be_visible()
        shot(app, "app-gift-code-zh-hans")
        pickup = code.inner_text()
    finally:
        app_ctx.close()

    desk_ctx, desk = staff_page(browser, live_server, "service", "zh-hans")
    watch(desk, violations)
    try:
        desk.goto(live_server.url + "/console/games/desk/")
        desk.fill("input[name=code]", pickup.lower())
        desk.get_by_test_id("gift-find").click()
        expect(desk.get_by_test_id("gift-card")).to_contain_text("生肖盲盒公仔")
        desk.get_by_test_id("gift-hand-over").click()
        expect(desk.get_by_test_id("gift-handed-over")).to_be_visible()
        shot(desk, "desk-handed-over-zh-hans")
        desk.fill("input[name=code]", pickup)
        desk.get_by_test_id("gift-find").click()
        expect(desk.get_by_test_id("gift-code-error")).to_be_visible()
        expect(desk.get_by_test_id("gift-hand-over")).to_have_count(0)
    finally:
        desk_ctx.close()
    assert violations == []
