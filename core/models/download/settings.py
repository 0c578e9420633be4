"""Where and how to reach the hub, read when a download starts (never frozen at import).

huggingface_hub reads its environment variables once, when it is imported; an app that lets the user
change HF_HOME or HF_ENDPOINT later (or a test that points them at a temporary folder) needs the
current values. The environment wins; otherwise huggingface_hub's own (possibly patched) constants.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants, get_token

from sfumato.core.models.hub_cache import expand_path, hub_cache_dir


@dataclass(frozen=True)
class HubSettings:
    endpoint: str
    cache_dir: Path
    token: str | None
    offline: bool


def hub_settings() -> HubSettings:
    return HubSettings(
        endpoint=_endpoint(),
        cache_dir=hub_cache_dir(),
        token=_token(),
        offline=_offline(),
    )


def _endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _token() -> str | None:
    if token := os.environ.get("HF_TOKEN", "").strip():
        return token
    token_file = os.environ.get("HF_TOKEN_PATH") or (
        os.path.join(os.environ["HF_HOME"], "token") if os.environ.get("HF_HOME") else None
    )
    if token_file and expand_path(token_file) != expand_path(constants.HF_TOKEN_PATH):
        # HF_HOME changed since huggingface_hub was imported: its token file is the one that counts.
        try:
            return expand_path(token_file).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None
    return get_token() or None


def _offline() -> bool:
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        value = os.environ.get(name)
        if value:
            return value.strip().upper() in constants.ENV_VARS_TRUE_VALUES
    return constants.is_offline_mode()
