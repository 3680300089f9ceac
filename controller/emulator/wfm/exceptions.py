"""WFM errors (ErrorBody)."""

from __future__ import annotations

from controller.emulator.core.exceptions import NotFound


class BusinessUnitNotFound(NotFound):
    def __init__(self, bu_id: str) -> None:
        super().__init__(f"Business unit {bu_id} not found.")


class ManagementUnitNotFound(NotFound):
    def __init__(self, mu_id: str) -> None:
        super().__init__(f"Management unit {mu_id} not found.")


class NotInManagementUnit(NotFound):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"Agent {agent_id} is not in a management unit.")


class JobNotFound(NotFound):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"Historical adherence job {job_id} not found.")


class DownloadNotFound(NotFound):
    def __init__(self, download_id: str) -> None:
        super().__init__("The download does not exist or has expired.")
