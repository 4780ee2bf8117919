"""Long work run in the background (a month's survey, an invoice run, a payout run, a ZIP of PDFs,
checking or importing a large spreadsheet): one row per run, which the job updates as it goes so a
screen can show its progress and its result.

`active_key` says what a run is about (the kind and its month) while it is queued or running, and is
cleared when it ends: being unique, it lets one run of a kind and month at a time, even between two
web processes starting one at once.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from admin_app.models.base import Base, UTCDateTime, str_enum, utcnow


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobKind(enum.StrEnum):
    """What a run does (jobs.job_runs.KINDS holds the work of each)."""

    SURVEY_SEND = "survey-send"
    INVOICE_RUN = "invoice-run"
    INVOICE_ZIP = "invoice-zip"
    PAYOUT_RUN = "payout-run"
    PAYOUT_ZIP = "payout-zip"
    IMPORT_CHECK = "import-check"
    IMPORT_APPLY = "import-apply"


class JobRun(Base):
    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(80), index=True)  # "survey-send:2026-10"
    active_key: Mapped[str | None] = mapped_column(String(80), unique=True)  # `key` until the run ends
    state: Mapped[JobState] = mapped_column(str_enum(JobState, "job_state"), default=JobState.QUEUED)
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # what the job needs besides its id
    language: Mapped[str] = mapped_column(String(5))  # the starter's, for a refusal's message
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    result: Mapped[dict | None] = mapped_column(JSON)  # the figures the result message shows
    failure: Mapped[str | None] = mapped_column(Text)  # why it failed, for the person at the screen
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The last sign of life (created, claimed, progress): a run silent for long was left by a dead process.
    alive_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_mimetype: Mapped[str | None] = mapped_column(String(100))
    file_content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)
