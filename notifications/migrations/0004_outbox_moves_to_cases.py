# The outbox now belongs to the case core (cases.0008_outbox): push deliveries point at it there, and the model's
# content type follows it (admin log entries and permissions keep working). The table is untouched.

import django.db.models.deletion
from django.db import migrations, models


def content_type_follows(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label="cases", model="outboxmessage").exists():
        content_types.objects.filter(app_label="notifications", model="outboxmessage").update(app_label="cases")


def content_type_returns(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label="notifications", model="outboxmessage").exists():
        content_types.objects.filter(app_label="cases", model="outboxmessage").update(app_label="notifications")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("cases", "0008_outbox"),
        ("notifications", "0003_outbox_replay_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="pushdelivery",
                    name="message",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="pushes", to="cases.outboxmessage"
                    ),
                ),
                migrations.DeleteModel(name="OutboxMessage"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_follows, content_type_returns),
    ]
