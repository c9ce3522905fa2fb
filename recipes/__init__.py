"""Runnable GRPO recipes: config -> data -> rewards -> policy -> TRL trainer -> evaluation -> report."""

import logging

# bitsandbytes warns on import, on every CPU machine, that an optional kernels
# package is missing; nothing here needs it, and a warning users can do
# nothing about hides the one-line errors the recipes promise.
logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
