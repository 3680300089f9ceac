"""Where Genesys Cloud is and who we are: region or explicit bases, OAuth client credentials.

Precedence: explicit flags, then GENESYS_* environment variables, then the region table. The
login host is derived from the API host the way the official SDK does it (`//api.` -> `//login.`).
Credentials come from files (Kubernetes secrets) or GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET;
the secret is registered with the log scrubber the moment it is read and never shown by repr().
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from controller.log import register_secret

# The 18 API hosts of the official SDK's purecloud_region_hosts.py (docs/genesys-api.md#oauth).
REGIONS: dict[str, str] = {
    "us_east_1": "https://api.mypurecloud.com",
    "eu_west_1": "https://api.mypurecloud.ie",
    "ap_southeast_2": "https://api.mypurecloud.com.au",
    "ap_northeast_1": "https://api.mypurecloud.jp",
    "eu_central_1": "https://api.mypurecloud.de",
    "us_west_2": "https://api.usw2.pure.cloud",
    "ca_central_1": "https://api.cac1.pure.cloud",
    "ap_northeast_2": "https://api.apne2.pure.cloud",
    "eu_west_2": "https://api.euw2.pure.cloud",
    "ap_south_1": "https://api.aps1.pure.cloud",
    "us_east_2": "https://api.use2.us-gov-pure.cloud",
    "sa_east_1": "https://api.sae1.pure.cloud",
    "me_central_1": "https://api.mec1.pure.cloud",
    "ap_northeast_3": "https://api.apne3.pure.cloud",
    "eu_central_2": "https://api.euc2.pure.cloud",
    "mx_central_1": "https://api.mxc1.pure.cloud",
    "ap_southeast_1": "https://api.apse1.pure.cloud",
    "eusc_de_east_1": "https://api.edee1.eusc-pure.cloud",
}

DEFAULT_RATE_PER_MINUTE = 300


class ConfigError(ValueError):
    """The connection settings are missing or contradictory; the message says what to set."""


def _normalize_region(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def region_api_base(region: str) -> str:
    key = _normalize_region(region)
    if key not in REGIONS:
        raise ConfigError(f"unknown Genesys region {region!r}; expected one of: {', '.join(sorted(REGIONS))}")
    return REGIONS[key]


def login_base_for(api_base: str) -> str:
    """https://api.X -> https://login.X, as the SDK derives it; anything else needs --login-base."""
    if "//api." not in api_base:
        raise ConfigError(
            f"cannot derive the login host from API base {api_base!r}; "
            "set --login-base or GENESYS_LOGIN_BASE (for the emulator it is the same URL)"
        )
    return api_base.replace("//api.", "//login.", 1)


@dataclass(frozen=True)
class ClientConfig:
    api_base: str
    login_base: str
    client_id: str
    client_secret: str = field(repr=False)
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE
    timeout_seconds: float = 30.0
    max_retries: int = 5
    max_retry_after_seconds: float = 180.0  # Java SDK: a longer Retry-After is a daily cap, give up
    user_agent: str = "presencectl/0.1"

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_base", self.api_base.rstrip("/"))
        object.__setattr__(self, "login_base", self.login_base.rstrip("/"))
        if not self.client_id or not self.client_secret:
            raise ConfigError(
                "OAuth client credentials missing: set GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET "
                "or pass --client-id-file/--client-secret-file"
            )
        if self.rate_per_minute < 1:
            raise ConfigError(f"rate per minute must be at least 1, got {self.rate_per_minute}")
        register_secret(self.client_secret)

    @classmethod
    def from_settings(
        cls,
        *,
        region: str | None = None,
        api_base: str | None = None,
        login_base: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        client_id_file: str | None = None,
        client_secret_file: str | None = None,
        rate_per_minute: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Resolve every setting; explicit arguments win over `env` (default os.environ)."""
        env = os.environ if env is None else env
        api = api_base or env.get("GENESYS_API_BASE")
        region = region or env.get("GENESYS_REGION")
        if not api:
            if not region:
                raise ConfigError(
                    "no Genesys Cloud location: set --region/GENESYS_REGION (e.g. us_east_1) "
                    "or --api-base/GENESYS_API_BASE"
                )
            api = region_api_base(region)
        login = login_base or env.get("GENESYS_LOGIN_BASE") or login_base_for(api)
        cid = _read_file(client_id_file, "client id") if client_id_file else client_id
        secret = _read_file(client_secret_file, "client secret") if client_secret_file else client_secret
        cid = cid or env.get("GENESYS_CLIENT_ID", "")
        secret = secret or env.get("GENESYS_CLIENT_SECRET", "")
        register_secret(secret)
        return cls(
            api_base=api,
            login_base=login,
            client_id=cid,
            client_secret=secret,
            rate_per_minute=rate_per_minute or DEFAULT_RATE_PER_MINUTE,
        )


def _read_file(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the OAuth {what} from {path}: {exc.strerror}") from None
