from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.membership.applications.idcard import check_character, normalize_id_number, normalize_real_name
from services.membership.members.cards import luhn_digit, luhn_valid, new_card_no


class TestIdNumber:
    def test_known_valid_numbers(self) -> None:
        # The GB 11643 worked example and a number with check character X.
        assert normalize_id_number("11010519491231002X") == "11010519491231002X"
        assert normalize_id_number("11010519491231002x") == "11010519491231002X"
        assert normalize_id_number(" 11010519491231002X ") == "11010519491231002X"
        # Check character right, but a birth year before 1900 is not a living applicant.
        assert normalize_id_number("440524188001010014") is None

    def test_wrong_check_character(self) -> None:
        assert normalize_id_number("110105194912310021") is None
        assert normalize_id_number("440524188001010015") is None

    def test_impossible_or_future_birth_date(self) -> None:
        for born in ("19900230", "19901301", "19900001", "20990101"):
            first17 = f"440106{born}123"
            assert normalize_id_number(first17 + check_character(first17)) is None
        first17 = "44010620240229123"  # a real leap day
        assert normalize_id_number(first17 + check_character(first17), today=date(2025, 1, 1)) is not None
        assert normalize_id_number(first17 + check_character(first17), today=date(2024, 2, 28)) is None

    def test_shape(self) -> None:
        for bad in ("", "1234567890123456", "11010519491231002XX", "01010519491231002X", "1101051949123100X2",
                    "１１０１０５１９４９１２３１００２X"):
            assert normalize_id_number(bad) is None

    @given(st.integers(min_value=0, max_value=999), st.dates(min_value=date(1920, 1, 1), max_value=date(2010, 1, 1)),
           st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
    def test_any_single_digit_change_is_caught(self, seq: int, born: date, pos: int, delta: int) -> None:
        first17 = f"440106{born:%Y%m%d}{seq:03d}"
        number = first17 + check_character(first17)
        assert normalize_id_number(number) == number
        digits = list(number)
        digits[pos] = str((int(digits[pos]) + delta) % 10)
        changed = "".join(digits)
        assert check_character(changed[:17]) != changed[17]


class TestRealName:
    def test_valid(self) -> None:
        assert normalize_real_name("张三") == "张三"
        assert normalize_real_name("欧阳娜娜") == "欧阳娜娜"
        assert normalize_real_name("买买提·艾力") == "买买提·艾力"
        assert normalize_real_name("阿依古丽•买买提") == "阿依古丽·买买提"

    def test_invalid(self) -> None:
        for bad in ("张", "Zhang San", "张3", "·张三", "张三·", "张··三", "张 三", "张" * 31, "<script>"):
            assert normalize_real_name(bad) is None, bad


class TestCardNumber:
    def test_luhn(self) -> None:
        assert luhn_digit("7992739871") == "3"
        assert luhn_valid("79927398713") and not luhn_valid("79927398710")

    @given(st.integers(min_value=0, max_value=15), st.integers(min_value=1, max_value=9))
    def test_mistyped_digit_is_caught(self, pos: int, delta: int) -> None:
        card = new_card_no()
        assert len(card) == 16 and luhn_valid(card)
        digits = list(card)
        digits[pos] = str((int(digits[pos]) + delta) % 10)
        assert not luhn_valid("".join(digits))
