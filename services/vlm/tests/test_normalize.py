"""Stage 4: amounts and dates in the formats banks print."""

from datetime import date
from decimal import Decimal

import pytest

from textkeys import fold
from vlm_service.normalize import (infer_date_order, match_date_prefix, parse_money, repair_money,
                                   resolve)


@pytest.mark.parametrize("text,value", [
    ("1,234.56", "1234.56"), ("1.234,56", "1234.56"), ("1'234.56", "1234.56"), ("1 234,56", "1234.56"),
    ("1\u202f234,56", "1234.56"), ("12.00", "12.00"), ("-12.00", "-12.00"), ("(12.00)", "-12.00"),
    ("12.00-", "-12.00"), ("12.00 DR", "-12.00"), ("12.00DR", "-12.00"), ("12.00 CR", "12.00"),
    ("£1,234.56", "1234.56"), ("-$12.50", "-12.50"), ("€ 1.000,00", "1000.00"), ("CHF 1'000.05", "1000.05"),
    ("1,234,567.89", "1234567.89"), ("0,99", "0.99"), ("−7.10", "-7.10"),
])
def test_amount_formats(text, value):
    money = parse_money(text)
    assert money is not None and isinstance(money.value, Decimal)
    assert money.value == Decimal(value)


@pytest.mark.parametrize("text", ["Card 1234", "2024", "12.5", "abc", "1,234", "(12.00", "12/01/2024", ""])
def test_not_money(text):
    assert parse_money(text) is None


def test_sign_markers_are_explicit():
    assert parse_money("12.00 CR").explicit and parse_money("(1.00)").explicit
    assert not parse_money("12.00").explicit


def test_repair_lost_decimal_point():
    assert repair_money("123456").value == Decimal("1234.56")
    assert repair_money("1,2345").value == Decimal("123.45")
    assert repair_money("12.34") is None and repair_money("Card") is None


@pytest.mark.parametrize("text,order,expected", [
    ("2024-01-31 Coffee", "DMY", date(2024, 1, 31)),
    ("31/01/2024 Coffee", "DMY", date(2024, 1, 31)),
    ("01/31/2024 Coffee", "MDY", date(2024, 1, 31)),
    ("31.01.24 Miete", "DMY", date(2024, 1, 31)),
    ("31 Jan 2024 Tesco", "DMY", date(2024, 1, 31)),
    ("Jan 31, 2024 Tesco", "DMY", date(2024, 1, 31)),
    ("31 January 2024", "MDY", date(2024, 1, 31)),
    ("3 mars 2024 Loyer", "DMY", date(2024, 3, 3)),
    ("12. Dezember 2023", "DMY", date(2023, 12, 12)),
    ("10Oct23 fee", "DMY", date(2023, 10, 10)),
    ("100ct23 fee", "DMY", date(2023, 10, 10)),
])
def test_dates(text, order, expected):
    raw, _rest = match_date_prefix(text)
    assert resolve(raw, order) == expected


def test_date_prefix_leaves_rest():
    raw, rest = match_date_prefix("01 Jun 2023 Card payment Pret")
    assert rest == "Card payment Pret"
    assert match_date_prefix("Card payment 01/02") is None
    assert match_date_prefix("12.00") is None


def test_missing_year_from_period_across_new_year():
    period = (date(2023, 12, 15), date(2024, 1, 14))
    dec, _ = match_date_prefix("28 Dec")
    jan, _ = match_date_prefix("03 Jan")
    assert resolve(dec, "DMY", period) == date(2023, 12, 28)
    assert resolve(jan, "DMY", period) == date(2024, 1, 3)
    numeric, _ = match_date_prefix("01/02")
    assert resolve(numeric, "MDY", period) == date(2024, 1, 2)


def test_date_order_inference():
    raws = [match_date_prefix(t)[0] for t in ("01/02/2024", "13/02/2024")]
    assert infer_date_order(raws) == "DMY"
    raws = [match_date_prefix(t)[0] for t in ("01/02/2024", "02/13/2024")]
    assert infer_date_order(raws) == "MDY"
    ambiguous = [match_date_prefix("01/02/2024")[0]]
    assert infer_date_order(ambiguous, "MDY") == "MDY"
    assert infer_date_order(ambiguous) == "DMY"


def test_fold():
    assert fold("Überweisung  Miete-März") == fold("uberweisung miete marz")


def test_account_numbers_are_masked_in_free_text():
    from vlm_service.extract import mask_account, mask_text

    assert mask_account("GB29 NWBK 6016 1331 9268 19") == "****6819"
    assert mask_text("Transfer to DE89 3704 0044 0532 0130 00 rent", None) == "Transfer to ****3000 rent"
    assert "12345678" not in mask_text("from account 12345678", "12345678")
    assert mask_text("Card payment 2024-01-05 ref 1234", None) == "Card payment 2024-01-05 ref 1234"
