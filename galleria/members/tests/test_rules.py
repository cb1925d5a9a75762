import pytest

from galleria.members import rules


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("0086-138-1234-5678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits
        ("19912345678", "+8619912345678"),
    ],
)
def test_chinese_mobiles_normalize_to_e164(raw, e164):
    assert rules.normalize_phone(raw, regions=["CN"]) == e164


@pytest.mark.parametrize("raw", ["", "12345", "1381234567", "138123456789", "02088886666", "+14155550123", "abc"])
def test_non_mobile_or_foreign_numbers_are_rejected(raw):
    assert rules.normalize_phone(raw, regions=["CN"]) is None


def test_other_regions_can_be_allowed():
    assert rules.normalize_phone("+852 5123 4567", regions=["CN", "HK"]) == "+85251234567"


@pytest.mark.parametrize(
    ("raw", "plate"),
    [
        ("粤B12345", "粤B12345"),
        ("粤b·12345", "粤B12345"),
        ("京A 8888学", "京A8888学"),
        ("粤BD12345", "粤BD12345"),  # small new-energy, 8 characters
        ("粤BFA1234", "粤BFA1234"),
        ("沪A12345D", "沪A12345D"),  # large new-energy
        ("湘A1B2C3", "湘A1B2C3"),
    ],
)
def test_valid_plates_normalize(raw, plate):
    assert rules.normalize_plate(raw) == plate
    assert rules.is_new_energy_plate(plate) == (len(plate) == 8)


@pytest.mark.parametrize(
    "raw", ["", "粤B1234", "粤BI2345", "粤BO2345", "AB12345", "粤B123456789", "粤BD1A234", "X粤B12345", "粤1B2345"]
)
def test_invalid_plates_are_rejected(raw):
    assert rules.normalize_plate(raw) is None


def test_masks():
    assert rules.mask_phone("+8613812345678") == "138****5678"
    assert rules.mask_name("张三") == "张*"
    assert rules.mask_name("欧阳娜娜") == "欧**娜"
    assert rules.mask_name("Alice") == "A****"


KEY = "k" * 32


def test_dynamic_code_round_trip_and_rotation():
    code = rules.dynamic_code(key=KEY, member_id=4242, member_secret="s1", step=1000)
    assert rules.looks_like_dynamic_code(code)
    nxt = rules.dynamic_code(key=KEY, member_id=4242, member_secret="s1", step=1001)
    assert code != nxt and code[2:12] != nxt[2:12]  # the id part rotates too
    cands = rules.dynamic_code_candidates(code, key=KEY, current_step=1000)
    assert cands[0].member_id == 4242
    assert rules.dynamic_code_matches(cands[0], key=KEY, member_secret="s1")
    assert not rules.dynamic_code_matches(cands[0], key=KEY, member_secret="other")


def test_dynamic_code_is_accepted_one_step_late_and_rejected_after():
    code = rules.dynamic_code(key=KEY, member_id=7, member_secret="s", step=500)
    ok = [c for c in rules.dynamic_code_candidates(code, key=KEY, current_step=501) if c.member_id == 7]
    assert ok and rules.dynamic_code_matches(ok[0], key=KEY, member_secret="s")
    stale = rules.dynamic_code_candidates(code, key=KEY, current_step=502)
    assert not any(c.member_id == 7 and rules.dynamic_code_matches(c, key=KEY, member_secret="s") for c in stale)


def test_forged_code_does_not_match():
    code = rules.dynamic_code(key=KEY, member_id=7, member_secret="s", step=500)
    forged = code[:-1] + str((int(code[-1]) + 1) % 10)
    cands = rules.dynamic_code_candidates(forged, key=KEY, current_step=500)
    assert not any(rules.dynamic_code_matches(c, key=KEY, member_secret="s") for c in cands)
