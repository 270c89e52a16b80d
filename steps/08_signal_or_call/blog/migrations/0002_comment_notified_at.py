from django.db import migrations, models
from django.db.models import F


def mark_earlier_comments_notified(apps, schema_editor):
    """Step 05 emailed their authors in the request: nothing is still due for them."""
    Comment = apps.get_model("blog", "Comment")
    # On the database being migrated, which need not be the default one.
    comments = Comment.objects.using(schema_editor.connection.alias)
    comments.update(notified_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="notified_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(mark_earlier_comments_notified, migrations.RunPython.noop),
    ]
