from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("velfaerdsteknologi", "0007_reading_partitioned"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(fields=["episode_id", "installed_at"], name="assignment_episode_installed"),
        ),
    ]
