import secrets

from django.db import migrations, models

import courses.models


def give_each_course_its_own_token(apps, schema_editor):
    # AddField evaluates the callable default once for all existing rows: without this
    # step every existing course would share one secret.
    Course = apps.get_model("courses", "Course")
    for course in Course.objects.only("pk"):
        Course.objects.filter(pk=course.pk).update(feed_token=secrets.token_urlsafe(24))


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="course",
            name="feed_token",
            field=models.CharField(
                default=courses.models.new_feed_token,
                help_text="Secret part of the calendar and feed URLs; regenerate to revoke them.",
                max_length=64,
            ),
        ),
        migrations.RunPython(give_each_course_its_own_token, migrations.RunPython.noop),
    ]
