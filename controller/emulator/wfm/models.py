"""WFM runtime state: async historical adherence jobs and the result downloads (pre-signed-URL
stand-ins served on the download host)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

DOWNLOADS_MAX = 1000  # downloads kept (oldest dropped), like pre-signed URLs that expire


@dataclass(slots=True)
class HistoricalJob:
    id: str
    client_id: str  # only the OAuth client that started it may read it
    state: str  # Processing | Complete | Error
    download_ids: list[str] = field(default_factory=list)


class WfmJobs:
    def __init__(self) -> None:
        self.download_base = ""  # the download host (scheme://host:port); "" serves them on the API host
        self.downloads: dict[str, Any] = {}
        self.historical: dict[str, HistoricalJob] = {}

    def reset(self) -> None:
        self.downloads.clear()
        self.historical.clear()

    def add_download(self, body: Any) -> str:
        download_id = uuid.uuid4().hex
        self.downloads[download_id] = body
        while len(self.downloads) > DOWNLOADS_MAX:
            del self.downloads[next(iter(self.downloads))]
        return download_id

    def start_historical(self, client_id: str) -> HistoricalJob:
        job = HistoricalJob(str(uuid.uuid4()), client_id, "Processing")
        self.historical[job.id] = job
        return job

    def complete(self, job: HistoricalJob, result: Any) -> None:
        job.download_ids = [self.add_download(result)]
        job.state = "Complete"

    def job_of(self, job_id: str, client_id: str) -> HistoricalJob | None:
        job = self.historical.get(job_id)
        return job if job is not None and job.client_id == client_id else None
