"""Export adherence figures to an external dashboard (ControllerConfig.adherenceExport).

Every `intervalSeconds` the daemon POSTs the per-policy figures of its last full resync as JSON
to `url`. The body is built by a pure function; the POST is best effort (a dashboard outage is
logged and counted, never retried into the reconcile path, and never blocks a cycle).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import requests

from controller.planner import PolicyAdherence

_log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0


def adherence_document(now: datetime, digest: str, figures: Sequence[PolicyAdherence]) -> dict[str, Any]:
    """The exported JSON: one entry per policy; `percent` is null when nobody could be judged."""
    return {
        "time": now.isoformat(),
        "desiredDigest": digest,
        "policies": [
            {
                "policy": f.policy,
                "managed": f.managed,
                "inDesired": f.in_desired,
                "outOfDesired": f.out_of_desired,
                "noOpinion": f.no_opinion,
                "unobserved": f.unobserved,
                "percent": f.percent,
            }
            for f in figures
        ],
    }


def post_adherence(url: str, document: dict[str, Any], session: requests.Session | None = None) -> bool:
    """POST `document` to `url`; True on a 2xx answer. Failures are logged, not raised."""
    try:
        answer = (session or requests).post(url, json=document, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        _log.warning("adherence export failed", extra={"url": url, "error": type(exc).__name__})
        return False
    if not answer.ok:
        _log.warning("adherence export refused", extra={"url": url, "status": answer.status_code})
        return False
    return True
