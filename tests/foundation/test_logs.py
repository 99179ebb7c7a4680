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
