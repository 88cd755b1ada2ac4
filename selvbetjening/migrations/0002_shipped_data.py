from django.db import migrations


def forwards(apps, schema_editor):
    from selvbetjening import shipped

    shipped.load(
        apps.get_model("selvbetjening", "FollowUpResult"),
        apps.get_model("selvbetjening", "Questionnaire"),
        apps.get_model("selvbetjening", "QuestionnaireVersion"),
    )


def backwards(apps, schema_editor):
    from selvbetjening import shipped

    shipped.unload(
        apps.get_model("selvbetjening", "FollowUpResult"),
        apps.get_model("selvbetjening", "Questionnaire"),
        apps.get_model("selvbetjening", "QuestionnaireVersion"),
    )


class Migration(migrations.Migration):
    dependencies = [("selvbetjening", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
