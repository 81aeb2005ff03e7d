# The outbox moves to the case core (it owns the rows every change writes; notifications only drains them). Only
# Django's record of the model moves: the table, its rows and its indexes stay as they are.

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_lean_indexes"),
        ("notifications", "0003_outbox_replay_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        (
                            "audience",
                            models.CharField(
                                choices=[
                                    ("user", "A user (reporter, co-reporter, assignee)"),
                                    ("agency", "An agency's queue"),
                                    ("case", "Everyone watching the case"),
                                ],
                                max_length=8,
                            ),
                        ),
                        ("audience_id", models.BigIntegerField()),
                        ("event_type", models.CharField(max_length=40)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
                                default="pending",
                                max_length=8,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("last_error", models.TextField(blank=True)),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="outbox", to="cases.case"
                            ),
                        ),
                        (
                            "event",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="outbox",
                                to="cases.caseevent",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "outbox message",
                        "verbose_name_plural": "outbox messages",
                        "db_table": "notifications_outboxmessage",
                        "indexes": [
                            models.Index(fields=["status", "next_attempt_at"], name="notificatio_status_6d08f9_idx"),
                            models.Index(
                                fields=["audience", "audience_id", "created_at"], name="outbox_audience_replay"
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
