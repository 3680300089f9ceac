"""The emulated platform's runtime state: one model per service over the static org, on one
emulator clock (moto's backend). The org is static; everything here changes.

Touched only from the server's event loop thread, so there are no locks.
"""

from __future__ import annotations

from datetime import datetime

from controller.emulator.auth.models import DEFAULT_TOKEN_TTL_SECONDS, TokenStore
from controller.emulator.core.clock import Clock
from controller.emulator.core.requestlog import RequestLog
from controller.emulator.faults import Faults
from controller.emulator.org import Org
from controller.emulator.presence.models import AgentPresence
from controller.emulator.ratelimit import RateLimiter
from controller.emulator.triggers.models import TriggerStore
from controller.emulator.wfm.models import WfmJobs


class PlatformBackend:
    def __init__(
        self,
        org: Org,
        *,
        rate_limit: int,
        token_ttl: int = DEFAULT_TOKEN_TTL_SECONDS,
        initial_adherence: float | None = None,
        start: datetime | None = None,
    ) -> None:
        self.org = org
        self.rate_limit = rate_limit
        self.clock = Clock(start)
        self.faults = Faults()
        self.limiter = RateLimiter(rate_limit)
        self.requests = RequestLog()
        self.tokens = TokenStore(self.clock, token_ttl)
        self.presence = AgentPresence(org, self.clock, initial_adherence)
        self.triggers = TriggerStore()
        self.wfm = WfmJobs()

    def reset(self) -> None:
        """Back to the initial org state: clock, faults, token lifetime, budget, presence,
        triggers, WFM jobs and downloads, the request log. Issued tokens stay valid."""
        self.clock.reset()
        self.faults.clear()
        self.tokens.ttl = self.tokens.default_ttl
        self.limiter = RateLimiter(self.rate_limit)
        self.requests = RequestLog()
        self.triggers.clear()
        self.wfm.reset()
        self.presence.reset()

    def settle(self) -> None:
        """Logins and logouts due by the emulator clock happen first (before any call)."""
        self.presence.settle()
