import io
import json
import logging

from gateway.logs import log, mask_phone, register_secret, setup_logging


def test_mask_phone_keeps_short_numbers():
    assert mask_phone("call 13812345678 now") == "call 138******78 now"
    assert mask_phone("room 1203") == "room 1203"


def test_json_log_masks_and_hides_secrets():
    buf = io.StringIO()
    setup_logging("INFO", stream=buf)
    register_secret("s3cr3t-ami")
    log(logging.getLogger("t"), logging.INFO, "login with s3cr3t-ami", caller="+8613812345678", secret="x")
    doc = json.loads(buf.getvalue().strip())
    assert "s3cr3t-ami" not in buf.getvalue()
    assert doc["caller"] == "861********78"
    assert doc["secret"] == "***"


def test_identifiers_stay_whole_and_numbers_elsewhere_are_masked():
    buf = io.StringIO()
    setup_logging("INFO", stream=buf)
    log(logging.getLogger("t"), logging.INFO, "hand-over", uniqueid="1795439672.9",
        incident_id="1795439672.9", call_id="1795439672.9-12345-2", caller_id="13812345678",
        channel="PJSIP/13812345678-0000001")
    doc = json.loads(buf.getvalue().strip())
    assert doc["uniqueid"] == doc["incident_id"] == "1795439672.9"
    assert doc["call_id"] == "1795439672.9-12345-2"
    assert doc["caller_id"] == "138******78" and "13812345678" not in doc["channel"]
