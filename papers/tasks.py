"""Background import work. Tasks take ids, load the job and call a service; they are
enqueued with `transaction.on_commit` so that a worker never sees an uncommitted job."""

from django.tasks import task

from papers import services
from papers.models import ImportJob


@task
def preview_import_task(job_id: int) -> None:
    """Fetch and dry-run a large job; a job deleted or already past this step is left
    alone (a task may run twice)."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PREPARING).first()
    if job is not None:
        services.preview_import(job=job)


@task
def run_import_task(job_id: int) -> None:
    """Run a large confirmed job, once: the run that moves it out of the queue runs it
    (a task may run twice, at the same time)."""
    queued = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED)
    if queued.update(status=ImportJob.Status.RUNNING):
        services.run_import(job=ImportJob.objects.get(pk=job_id))
