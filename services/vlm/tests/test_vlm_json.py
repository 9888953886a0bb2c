"""Stage 6 without a model: the VLM answer is repaired, validated and normalised."""

from datetime import date
from decimal import Decimal

import pytest

from vlm_service.vlm import VLMOutputError, load_json, parse_rows


def test_fenced_json_with_prose():
    text = 'Sure! ```json\n{"transactions": [{"date": "2024-01-31", "description": "Tesco", ' \
           '"amount": "-12.30", "balance": "87.70"}]}\n``` Hope this helps.'
    rows = parse_rows(text, "DMY")
    assert rows[0].date == date(2024, 1, 31) and rows[0].amount == Decimal("-12.30")
    assert rows[0].balance == Decimal("87.70") and rows[0].description == "Tesco"


def test_repairs_trailing_commas_quotes_and_truncation():
    assert load_json("{'a': [1, 2,],}") == {"a": [1, 2]}
    truncated = '[{"date": "31/01/2024", "description": "Rent", "amount": -500.5, "balance": 1000'
    rows = parse_rows(truncated, "DMY")
    assert rows[0].amount == Decimal("-500.50") and rows[0].balance == Decimal("1000.00")


def test_amount_formats_and_numbers():
    rows = parse_rows('[{"date": "Jan 2, 2024", "amount": "(1,234.50)"}, '
                      '{"date": "2024-01-03", "amount": 7}]', "DMY")
    assert [r.amount for r in rows] == [Decimal("-1234.50"), Decimal("7.00")]
    assert rows[0].balance is None


@pytest.mark.parametrize("text", ["no json here", "[]", '{"transactions": "x"}', '[{"date": "soon", "amount": 1}]',
                                  '[{"date": "2024-01-01", "amount": "lots"}]', "[1, 2]"])
def test_invalid_answers_raise(text):
    with pytest.raises(VLMOutputError):
        parse_rows(text, "DMY")
