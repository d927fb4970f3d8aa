"""The configuration of an integration run, as ``SLOTWISE_*`` variables.

One mapping serves both ways a test runs Slotwise: ``Settings.from_env`` turns
it into the settings of the in-process app, and server processes and commands
get it in their environment, as a deployment would configure them.
"""

from __future__ import annotations

from pathlib import Path

SECRET_KEY = "integration-tests-" + "k" * 32  # the key the app signs manage tokens with
BASE_URL = "http://testserver.local"


def environment(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "SLOTWISE_DATABASE_URL": database_url,
        "SLOTWISE_DATA_DIR": str(data_dir),
        "SLOTWISE_SECRET_KEY": SECRET_KEY,
        "SLOTWISE_BASE_URL": BASE_URL,
        # The suite's one app serves hundreds of writes from one client address;
        # the limit itself is tested with an app of its own (test_rate_limit.py).
        "SLOTWISE_RATE_LIMIT": "0",
        "SLOTWISE_READ_RATE_LIMIT": "0",
        # Webhook receivers in the tests listen on loopback; refusing private targets is
        # tested with settings of its own (test_webhooks.py, test_webhook_sender.py).
        "SLOTWISE_WEBHOOK_ALLOW_PRIVATE": "1",
    }
