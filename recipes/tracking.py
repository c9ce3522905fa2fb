"""Experiment tracking: W&B online when the user has credentials, offline otherwise, never a prompt."""

from __future__ import annotations

import os
from pathlib import Path

from recipes.config import RunConfig


def wandb_credentials_found() -> bool:
    """Whether wandb would log in by itself: a key in the environment or the one `wandb login` saved.

    ``wandb login`` writes the key to ~/.netrc (or $NETRC), not to the
    environment; wandb's own reader decides, so we ask it (wandb
    ``sdk/lib/wbauth/wbnetrc.py``).
    """
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    try:
        from wandb.sdk.lib.wbauth.wbnetrc import read_netrc_auth

        return read_netrc_auth(host=os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")) is not None
    except Exception:  # an unreadable or malformed netrc: wandb could not log in with it either
        return False


def configure_wandb(cfg: RunConfig, run_dir: Path) -> None:
    """Offline W&B when no credentials exist: never a login prompt, never a crash, never the key in a file."""
    if "wandb" not in (cfg.grpo.report_to or []):
        return
    os.environ.setdefault("WANDB_PROJECT", cfg.recipe.wandb_project)
    os.environ.setdefault("WANDB_DIR", str(run_dir))
    if os.environ.get("WANDB_MODE") not in ("offline", "disabled") and not wandb_credentials_found():
        os.environ["WANDB_MODE"] = "offline"
        print(f"W&B: no credentials (WANDB_API_KEY or `wandb login`), logging offline to {run_dir}/wandb "
              "(upload later: wandb sync)")
