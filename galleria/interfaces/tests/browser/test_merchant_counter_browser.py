"""The merchant counter in a real browser: the clerk scans the member's code with the camera — Chromium's fake
camera is fed a video of the member's code screen (QR code and barcode), generated here — quotes, records the sale,
and the member's app shows the points at once.
Also: the "scan from a photo" path, and screenshots in zh-Hans and English."""

from __future__ import annotations

import re
import shutil
from importlib import import_module
from pathlib import Path

import pytest
import segno
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from conftest import CHROMIUM_ARGS
from galleria.audit.types import Actor
from galleria.interfaces.app.barcode import code128_modules
from galleria.members.selectors import member_code_current
from galleria.members.services import member_register
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "shots" / "counter"
WIDTH, HEIGHT = 640, 480


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def member_screen(code: str) -> bytes:
    """The member app's code screen as a 640×480 grey frame: the QR code (segno, error level M, 8 px a module) above
    the Code 128 barcode of the same code (3 px a module), as the app shows them. Both matter: ZXing, the counter's
    decoder, misses a few in a thousand version-1 QR symbols even on a perfect image (zbar reads them), and the
    barcode below is what the scanner then reads — as at a real counter, where the phone shows both."""
    qr = segno.make(code, error="m", micro=False)
    scale, border, top = 8, 4, 20
    modules = [list(row) for row in qr.matrix]
    size = (len(modules) + 2 * border) * scale
    left = (WIDTH - size) // 2
    luma = bytearray([235]) * (WIDTH * HEIGHT)  # a white page
    for y in range(size):
        my = y // scale - border
        row_off = (top + y) * WIDTH + left
        for x in range(size):
            mx = x // scale - border
            if 0 <= my < len(modules) and 0 <= mx < len(modules) and modules[my][mx]:
                luma[row_off + x] = 16
    bars, bar_w = code128_modules(code), 3
    bars_left, bars_top = (WIDTH - len(bars) * bar_w) // 2, top + size + 20
    row = bytearray([235]) * WIDTH
    for i, bar in enumerate(bars):
        if bar == "1":
            row[bars_left + i * bar_w : bars_left + (i + 1) * bar_w] = bytes([16]) * bar_w
    for y in range(bars_top, bars_top + 110):
        luma[y * WIDTH : (y + 1) * WIDTH] = row
    return bytes(luma)


def code_video(code: str, path: Path, *, frames: int = 20) -> Path:
    """A Y4M video (what Chromium's fake camera plays, in a loop) of the member's code screen."""
    luma = member_screen(code)
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(luma)
            out.write(chroma)
            out.write(chroma)
    return path


def code_photo(code: str, path: Path) -> Path:
    """A photo (PNG) of the member's code screen, for the "scan from a photo" path."""
    Image.frombytes("L", (WIDTH, HEIGHT), member_screen(code)).save(path)
    return path


def watch(page) -> list[str]:
    """Content-Security-Policy violations and script errors on the page (the scanner runs under script-src 'self')."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return problems


def sign_in_clerk(page, live_server) -> None:
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", "heytea-clerk")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/merchant/")


def member_app(browser, live_server, member, locale: str):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = member.pk
    store.create()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale, is_mobile=True)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


@pytest.fixture
def camera_browser(browser, tmp_path, world):
    """A Chromium of its own whose camera plays the QR code of a member registered for the test, launched by the
    session's Playwright (a second sync_playwright() inside the same process is refused)."""
    member = member_register(
        mall=world.mall, phone="13812345678", channel="desk", actor=Actor.system(), profile={"name": "张小明"}
    )
    video = code_video(member_code_current(member=member).code, tmp_path / "member-code.y4m")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    camera = browser.browser_type.launch(executable_path=executable, headless=True, args=args)
    try:
        yield camera, member
    finally:
        camera.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_clerk_scans_with_the_camera_and_the_member_sees_the_points(camera_browser, live_server, world, locale):
    browser, member = camera_browser
    lang = "en" if locale == "en-US" else "zh"
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale=locale, permissions=["camera"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch(page)
    sign_in_clerk(page, live_server)
    shot(page, f"home-{lang}.png")

    page.click("[data-nav=counter]")
    page.wait_for_url("**/merchant/counter/")
    shot(page, f"counter-scan-{lang}.png")
    page.get_by_test_id("scanner-start").click()
    # the camera sees the code; the page fills the code box and identifies the member by itself (decoding the
    # fake camera's frames takes seconds on a busy CI machine)
    expect(page.get_by_test_id("counter-member")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("counter-phone")).to_have_text("138****5678")
    assert "13812345678" not in page.content()

    page.get_by_test_id("counter-amount").fill("128.00")
    page.get_by_test_id("counter-quote-btn").click()
    expect(page.get_by_test_id("quote-earn")).to_have_text("+128")
    expect(page.get_by_test_id("quote-paid")).to_have_text("¥128.00")
    shot(page, f"counter-quote-{lang}.png")

    page.get_by_test_id("counter-sell").click()
    page.wait_for_url(re.compile(r".*/merchant/counter/sales/\d+/$"))
    expect(page.get_by_test_id("sale-points")).to_have_text("+128")
    shot(page, f"counter-sale-{lang}.png")
    sale = Sale.objects.get()
    assert sale.channel == "counter" and sale.member_id == member.pk
    assert points_balance(member_id=member.pk) == 128

    app_context, app = member_app(browser, live_server, member, locale)
    app.goto(live_server.url + "/app/bills/")
    expect(app.locator("body")).to_contain_text("喜茶")
    expect(app.locator("body")).to_contain_text("128")
    shot(app, f"member-bills-{lang}.png")
    app.goto(live_server.url + "/app/points/")
    expect(app.locator("body")).to_contain_text("128")
    shot(app, f"member-points-{lang}.png")
    app_context.close()

    page.goto(live_server.url + "/merchant/counter/sales/")
    expect(page.get_by_test_id("counter-sales")).to_contain_text("138****5678")
    shot(page, f"counter-sales-{lang}.png")
    assert problems == []
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_clerk_scans_the_code_from_a_photo_and_a_manager_refunds(page, live_server, world, tmp_path):
    member = member_register(mall=world.mall, phone="13812345678", channel="desk", actor=Actor.system())
    problems = watch(page)
    photo = tmp_path / "code.png"
    code_photo(member_code_current(member=member).code, photo)
    sign_in_clerk(page, live_server)
    page.goto(live_server.url + "/merchant/counter/")
    page.get_by_test_id("scanner-file").set_input_files(str(photo))
    expect(page.get_by_test_id("counter-member")).to_be_visible(timeout=20_000)

    page.get_by_test_id("counter-add-line").click()
    page.get_by_test_id("counter-amount").fill("30.00")
    page.fill("input[name=name_2]", "Gift card")
    page.select_option("select[name=category_2]", "gift_card")
    page.fill("input[name=price_2]", "100.00")
    page.get_by_test_id("counter-quote-btn").click()
    expect(page.get_by_test_id("quote-paid")).to_have_text("¥130.00")
    page.get_by_test_id("counter-sell").dblclick()  # a double tap
    page.wait_for_url(re.compile(r".*/merchant/counter/sales/\d+/$"))
    assert Sale.objects.count() == 1

    page.context.clear_cookies()
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", "heytea-manager")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + f"/merchant/counter/sales/{Sale.objects.get().pk}/")
    page.get_by_test_id("refund-qty-2").fill("1")
    page.get_by_test_id("refund-lines").click()
    expect(page.get_by_test_id("sale-status")).to_contain_text("Partially refunded")
    expect(page.get_by_test_id("refund-list")).to_be_visible()
    shot(page, "counter-refund-en.png")
    page.set_viewport_size({"width": 390, "height": 844})  # a clerk's phone
    page.goto(live_server.url + "/merchant/counter/")
    expect(page.get_by_test_id("scanner-start")).to_be_visible()
    shot(page, "counter-phone-en.png")
    assert problems == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_qr_symbol_zxing_misses_is_read_from_the_barcode_below_it(page, live_server, world, tmp_path):
    """666095743397367583 drawn as the app draws it (1-Q after segno's error boost) is one of the QR symbols ZXing
    cannot decode on a perfect image (zbar can): the scanner still reads the code, from the Code 128 below it."""
    sign_in_clerk(page, live_server)
    page.goto(live_server.url + "/merchant/counter/")
    page.get_by_test_id("scanner-file").set_input_files(str(code_photo("666095743397367583", tmp_path / "code.png")))
    page.wait_for_load_state("networkidle")
    expect(page.locator("input[name=q]")).to_have_value("666095743397367583")
