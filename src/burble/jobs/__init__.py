"""The durable job queue under Burble's scheduler (ADR 0011): jobs are rows in the
environment's database, scheduled in the caller's transaction and claimed atomically by any
number of workers.

`model` holds the records (`NewJob`, `Job`, `Status`), `queue` the table's operations
(`JobQueue`), `worker` the claim-and-run loop (`Worker`, `JobContext`), and `recurrence` the
calendar math of recurring series. A job is opaque here: a workflow name, JSON parameters and
context; what running it means is the handler's business.
"""

from burble.jobs.model import Job, Kind, NewJob, Series, Status
from burble.jobs.queue import JobQueue
from burble.jobs.recurrence import Frequency
from burble.jobs.worker import ClaimLost, JobContext, Worker

__all__ = [
    "ClaimLost",
    "Frequency",
    "Job",
    "JobContext",
    "JobQueue",
    "Kind",
    "NewJob",
    "Series",
    "Status",
    "Worker",
]
