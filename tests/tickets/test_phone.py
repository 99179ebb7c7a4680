import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from gateway.phone import normalize


def test_mobile_landline_and_service_numbers():
    assert normalize("138 1234 5678") == ("138 1234 5678", "+8613812345678", True, "mobile")
    assert normalize("+86 138-1234-5678").e164 == "+8613812345678"
    assert normalize("0086 13812345678").e164 == "+8613812345678"
    assert normalize("010-12345678")[1:] == ("+861012345678", True, "landline")
    assert normalize("0871-65123456")[1:] == ("+8687165123456", True, "landline")
    assert normalize("4008123123").valid and normalize("4008123123").e164 == "+864008123123"
    assert normalize("800-810-8888")[1:] == ("+868008108888", True, "toll_free")
    assert normalize("110") == ("110", None, True, "emergency")
    assert normalize("12345") == ("12345", None, True, "short")


def test_invalid_numbers_accepted_and_flagged():
    assert normalize("1381234567")[2:] == (False, "invalid")  # one digit short, raw kept
    assert normalize("1381234567").raw == "1381234567"
    assert normalize("anonymous") == ("anonymous", None, False, "invalid")
    assert normalize("") == ("", None, False, "empty")
    assert normalize(None).kind == "empty"
    assert normalize("99999") == ("99999", None, False, "invalid")
    assert normalize("+1 650 253 0000")[1:] == ("+16502530000", True, "foreign")


@settings(max_examples=500, deadline=None)
@given(
    st.from_regex(r"(\+86 ?|0086|86)?1[0-9]{10}", fullmatch=True)
    | st.from_regex(r"1[3-9][0-9]{2}[ -]?[0-9]{4}[ -]?[0-9]{3,4}", fullmatch=True)
)
def test_mobile_fast_path_agrees_with_phonenumbers(raw):
    got = normalize(raw)
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        assert got.kind != "mobile" and not got.valid
        return
    if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE:
        assert got == (
            raw,
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
            True,
            "mobile",
        )
    else:
        assert got.kind != "mobile"
