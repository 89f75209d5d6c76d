"""Keep Course.schedule_revision moving whenever what a schedule shows changes.

The rendered schedule of a course is cached under its revision (courses/
schedule_cache.py). Any save or delete of the course, one of its lectures or
readings, a paper it assigns or that paper's authors bumps the revision in the
database, so the very next request renders afresh, in every process. This is cache
bookkeeping, not domain logic, which is why it may live in signals: it must hold for
every writer, the admin and the importers included.

A save with `update_fields` that leaves the revision out (a new join code or feed
secret) is bumped after it. Writers that bypass signals (QuerySet.update(),
bulk_create()) must call `touch_courses()` themselves.
"""

from django.db.models import F
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from courses.models import Course, Lecture, Reading
from papers.models import Authorship, Paper


def touch_courses(queryset_or_ids):
    """Bump the schedule revision of the given courses (a queryset or ids)."""
    courses = (
        Course.objects.filter(pk__in=queryset_or_ids)
        if not hasattr(queryset_or_ids, "model")
        else queryset_or_ids
    )
    courses.update(schedule_revision=F("schedule_revision") + 1)


@receiver(pre_save, sender=Course)
def _course_saved(sender, instance, raw=False, **kwargs):
    # Written as "schedule_revision = schedule_revision + 1" in the UPDATE itself, so
    # an instance loaded long ago can never write an old revision back.
    if not raw and not instance._state.adding:
        instance.schedule_revision = F("schedule_revision") + 1


@receiver(post_save, sender=Course)
def _course_refreshed(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if update_fields is not None and "schedule_revision" not in update_fields:
        touch_courses([instance.pk])  # (the UPDATE above did not write it)
    if not isinstance(instance.schedule_revision, int):
        instance.refresh_from_db(fields=["schedule_revision"])


@receiver([post_save, post_delete], sender=Lecture)
def _lecture_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        touch_courses([instance.course_id])


@receiver([post_save, post_delete], sender=Reading)
def _reading_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        touch_courses(Course.objects.filter(lectures__pk=instance.lecture_id))


@receiver(post_save, sender=Paper)
def _paper_changed(sender, instance, raw=False, created=False, **kwargs):
    if not raw and not created:
        touch_courses(Course.objects.filter(lectures__readings__paper_id=instance.pk))


@receiver([post_save, post_delete], sender=Authorship)
def _authors_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        touch_courses(Course.objects.filter(lectures__readings__paper_id=instance.paper_id))
