"""Reaching Ray for the engines that run on it (batch over photo libraries, catalogue builds).

Why here: both engines need the same two steps — import Ray Data or say plainly that the
optional ``ray`` extra is missing, then join the cluster ``RAY_ADDRESS`` names or start a local
instance — and ``batch`` and ``catalogue`` may not import each other. Ray itself is imported
only when an engine asks for it.
"""

from __future__ import annotations

import os
from typing import Any

from tunelens.core.errors import InvalidRequest

__all__ = ["require_ray", "start_ray"]


def require_ray(instead: str) -> Any:
    """The ``ray`` module with Ray Data loaded; ``ray_missing`` (naming what to do ``instead``,
    e.g. "use --engine local") when the extra is absent."""
    try:
        import ray  # noqa: PLC0415 - optional extra (tunelens[ray]), loaded only for this engine
        import ray.data  # noqa: PLC0415 - the Data library is a separate part of the extra
    except ImportError as exc:
        raise InvalidRequest(
            f"The ray engine needs Ray Data ({exc.name} is not installed); install "
            f"tunelens[ray] or {instead}.",
            code="ray_missing",
        ) from None
    return ray


def start_ray(ray: Any, workers: int) -> bool:
    """Join the cluster ``RAY_ADDRESS`` names, or start a local instance of ``workers`` CPUs,
    unless Ray already runs in this process; True when this call started it (so the caller
    shuts it down)."""
    if ray.is_initialized():
        return False
    if os.environ.get("RAY_ADDRESS"):
        # Ray refuses num_cpus when connecting to an existing cluster
        ray.init(log_to_driver=False, configure_logging=False)
    else:
        ray.init(
            num_cpus=max(1, workers),
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    return True
