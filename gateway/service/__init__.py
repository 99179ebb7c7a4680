"""``linkage run``: the long-running gateway service, composed from the stage packages."""
