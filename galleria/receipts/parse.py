"""Reading a receipt's fields out of OCR lines (pure: no database, no clock).

Input: the lines the OCR engine read, top to bottom, each with its confidence; the mall group's merchants with
their aliases and registered tax / merchant numbers; the mall's time zone. Output: `ParsedReceipt` with, per
field, the confidence of the line it came from.

Text is normalised first (NFKC: full-width `：￥（）０-９Ａ-Ｚ` become ASCII, `￥` becomes `¥`; then spaces are
dropped — OCR splits and joins words at random), so every pattern below sees one spelling.

- total: the amount on a 实收 / 实付 / 实付金额 line wins over 合计 / 应收 / 应付 / 总计 / 金额合计 (what was paid,
  after discounts); an amount on the next line counts when the keyword line has none. Amounts are parsed as exact
  decimals into fen (never floats).
- date-time: `2026-11-23 14:35[:08]`, `2026/11/23`, `2026.11.23`, `2026年11月23日 14:35`; a date without a time
  is read as noon (the reviewer sees it).
- receipt number: after 小票号 / 单号 / 流水号 / 票号 / 订单号 / 交易号 / 单据号 / 收据号 / NO.
- shop: a registered tax / merchant number printed on the receipt is certain; else the longest merchant name or
  alias found in the text (so 星巴克咖啡 beats 星巴克 when both are merchants).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from .types import MerchantCandidate, OcrLine, ParsedReceipt

_SPACES = re.compile(r"\s+")
_AMOUNT = r"[¥$]?(-?\d{1,7}(?:[.,]\d{1,2})?)"
PAID_KEYS = ("实收金额", "实付金额", "实收", "实付", "支付金额", "付款金额")
TOTAL_KEYS = ("金额合计", "应收金额", "应付金额", "合计", "应收", "应付", "总计", "总额", "TOTAL")
_NOT_TOTAL = ("找零", "优惠", "折扣", "数量", "件数", "积分")
_DATE = re.compile(r"(20\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:(\d{1,2})[:：时](\d{2})(?:[:：分](\d{2}))?)?")
_RECEIPT_NO = re.compile(
    r"(?:小票号|小票编号|单据号|单号|流水号|票号|订单号|交易号|收据号|收银单号|NO(?=[.:#]))[:#.]?([A-Z0-9][A-Z0-9-]{3,39})"
)
_TAX_NO = re.compile(r"(?:纳税人识别号|统一社会信用代码|税号|商户编号|商户号)[:#.]?([0-9A-Z]{8,20})")


def normalise(text: str) -> str:
    """NFKC (full-width to ASCII), upper case, no spaces."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or "")).upper()


def normalise_name(text: str) -> str:
    """A merchant name or alias as the parser compares it: normalised, without brackets' spacing."""
    return normalise(text)


def yuan_to_fen(text: str) -> int | None:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    fen = value * 100
    if fen != fen.to_integral_value() or fen <= 0:
        return None
    return int(fen)


def _amount_after(line: str, key: str) -> int | None:
    rest = line[line.index(key) + len(key) :].lstrip(":：")
    match = re.match(r"(?:\(元\)|\(RMB\)|RMB|CNY|元)?[:]?" + _AMOUNT, rest)
    if match is None:
        return None
    return yuan_to_fen(match.group(1))


def _line_amount(line: str) -> int | None:
    match = re.fullmatch(r"[¥$]?" + r"(\d{1,7}(?:[.,]\d{1,2})?)元?", line)
    return yuan_to_fen(match.group(1)) if match else None


def find_total(lines: Sequence[tuple[str, int]]) -> tuple[int | None, int]:
    for keys in (PAID_KEYS, TOTAL_KEYS):
        for index, (line, conf) in enumerate(lines):
            if any(bad in line for bad in _NOT_TOTAL):
                continue
            key = next((k for k in keys if k in line), None)
            if key is None:
                continue
            amount = _amount_after(line, key)
            if amount is None and index + 1 < len(lines):
                amount = _line_amount(lines[index + 1][0])
                conf = min(conf, lines[index + 1][1])
            if amount is not None:
                return amount, conf
    return None, 0


def find_datetime(lines: Sequence[tuple[str, int]], tz: dt.tzinfo) -> tuple[dt.datetime | None, int]:
    for line, conf in lines:
        for match in _DATE.finditer(line):
            year, month, day, hour, minute, second = match.groups()
            try:
                moment = dt.datetime(
                    int(year),
                    int(month),
                    int(day),
                    int(hour) if hour is not None else 12,
                    int(minute) if minute is not None else 0,
                    int(second) if second is not None else 0,
                    tzinfo=tz,
                )
            except ValueError:
                continue
            return moment, conf if hour is not None else min(conf, 50)
    return None, 0


def find_receipt_no(lines: Sequence[tuple[str, int]]) -> tuple[str, int]:
    for line, conf in lines:
        match = _RECEIPT_NO.search(line)
        if match:
            return match.group(1)[:40], conf
    return "", 0


def find_tax_no(lines: Sequence[tuple[str, int]]) -> tuple[str, int]:
    for line, conf in lines:
        match = _TAX_NO.search(line)
        if match:
            return match.group(1), conf
    return "", 0


def find_merchant(
    lines: Sequence[tuple[str, int]], merchants: Sequence[MerchantCandidate], tax_no: str, tax_conf: int
) -> tuple[int | None, int]:
    if tax_no:
        for m in merchants:
            if tax_no in m.tax_numbers:
                return m.merchant_id, max(tax_conf, 95)
    best: tuple[int, int, int] | None = None  # (length of the name matched, merchant id, confidence)
    for line, conf in lines:
        for m in merchants:
            for name in (m.name, *m.aliases):
                if len(name) >= 2 and name in line and (best is None or len(name) > best[0]):
                    best = (len(name), m.merchant_id, conf)
    if best is None:
        return None, 0
    return best[1], best[2]


def parse_receipt(lines: Sequence[OcrLine], *, merchants: Sequence[MerchantCandidate], tz: dt.tzinfo) -> ParsedReceipt:
    norm = [(normalise(line.text), max(0, min(100, line.confidence))) for line in lines]
    norm = [(text, conf) for text, conf in norm if text]
    amount, amount_conf = find_total(norm)
    occurred, occurred_conf = find_datetime(norm, tz)
    receipt_no, no_conf = find_receipt_no(norm)
    tax_no, tax_conf = find_tax_no(norm)
    candidates = [
        MerchantCandidate(
            merchant_id=m.merchant_id,
            name=normalise_name(m.name),
            aliases=tuple(normalise_name(a) for a in m.aliases),
            tax_numbers=tuple(normalise(t) for t in m.tax_numbers),
        )
        for m in merchants
    ]
    merchant_id, merchant_conf = find_merchant(norm, candidates, tax_no, tax_conf)
    return ParsedReceipt(
        merchant_id=merchant_id,
        merchant_confidence=merchant_conf,
        amount_fen=amount,
        amount_confidence=amount_conf if amount is not None else 0,
        occurred_at=occurred,
        occurred_confidence=occurred_conf,
        receipt_no=receipt_no,
        receipt_no_confidence=no_conf,
        tax_no=tax_no,
    )
