"""Seed the MLSys call-for-papers topics (2024 list plus the two 2022/2023 extras).

The list is frozen here, as migrations must be; topics stay editable in the admin.
"""

from django.db import migrations
from django.utils.text import slugify

TOPICS = [
    'Efficient model training, inference, and serving',
    'Distributed and parallel learning algorithms',
    'Privacy and security for ML applications',
    'Testing, debugging, and monitoring of ML applications',
    'Fairness, interpretability, and explainability for ML applications',
    'Data preparation and data cleaning',
    'ML programming models and abstractions',
    'Programming languages for machine learning',
    'ML compilers and runtimes',
    'Visualization of data, models, and predictions',
    'Specialized hardware for machine learning',
    'Hardware-efficient ML methods',
    'Machine learning benchmarks, datasets, and tooling',
    'Machine Learning for Systems',
    'Systems for Machine Learning',
]


def seed_topics(apps, schema_editor):
    Topic = apps.get_model("papers", "Topic")
    for order, name in enumerate(TOPICS, start=1):
        Topic.objects.get_or_create(slug=slugify(name), defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("papers", "0001_initial")]

    operations = [migrations.RunPython(seed_topics, migrations.RunPython.noop)]
