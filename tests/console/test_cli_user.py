"""``linkage user add`` / ``token`` through the real command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gateway.cli import main


def test_user_add_and_token(config_dir):
    gw = str(config_dir / "gateway.yaml")
    runner = CliRunner()
    r = runner.invoke(
        main,
        ["--config", gw, "user", "add", "boss", "--role", "supervisor", "--password-stdin"],
        input="s3cret-password\n",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["created"]["role"] == "supervisor"
    r = runner.invoke(
        main,
        ["--config", gw, "user", "add", "w", "--role", "agency", "--agency", "nope", "--password-stdin"],
        input="s3cret-password\n",
    )
    assert r.exit_code == 2 and "unknown agency" in r.output
    r = runner.invoke(
        main,
        [
            "--config",
            gw,
            "user",
            "add",
            "w",
            "--role",
            "agency",
            "--agency",
            "water",
            "--grant-recordings",
            "--password-stdin",
        ],
        input="s3cret-password\n",
    )
    assert r.exit_code == 0 and json.loads(r.output)["created"]["grant_recordings"] is True
    r = runner.invoke(
        main,
        ["--config", gw, "user", "add", "boss", "--role", "supervisor", "--password-stdin"],
        input="another-password\n",
    )
    assert r.exit_code == 2 and "already exists" in r.output
    r = runner.invoke(main, ["--config", gw, "user", "token", "w"])
    assert r.exit_code == 0 and json.loads(r.output)["token"].startswith("lk_")
    r = runner.invoke(main, ["--config", gw, "user", "token", "boss"])
    assert r.exit_code == 2 and "not an agency user" in r.output
