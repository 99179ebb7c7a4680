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
