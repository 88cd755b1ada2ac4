"""Assignments tied to another citizen's episode or goal lose that tie.

``POST /device-assignments`` once stored ``episode_id`` and ``goal_id`` unchecked, so an assignment could
name an episode or goal of another citizen, and that episode's end then opened a return task for the
wrong device. The references that do not belong to the assignment's citizen are cleared (and counted on
the console); the device, the citizen and the assignment stay as they are.
"""

from django.db import migrations


def clear_foreign_references(apps, schema_editor):
    Assignment = apps.get_model("velfaerdsteknologi", "Assignment")
    Episode = apps.get_model("selvbetjening", "Episode")
    Goal = apps.get_model("selvbetjening", "Goal")
    cleared = 0
    tied = Assignment.objects.exclude(episode_id__isnull=True, goal_id__isnull=True)
    for assignment in tied.iterator(chunk_size=500):
        changes = {}
        if assignment.episode_id and not Episode.objects.filter(
            pk=assignment.episode_id, citizen_id=assignment.citizen_id
        ).exists():
            changes["episode_id"] = None
        if assignment.goal_id and not Goal.objects.filter(
            pk=assignment.goal_id, episode__citizen_id=assignment.citizen_id
        ).exists():
            changes["goal_id"] = None
        if changes:
            Assignment.objects.filter(pk=assignment.pk).update(**changes)
            cleared += 1
    if cleared:
        print(f"\n  Cleared another citizen's episode or goal from {cleared} device assignment(s).")  # noqa: T201


class Migration(migrations.Migration):
    dependencies = [
        ("velfaerdsteknologi", "0005_alert_citizen_resolution"),
        ("selvbetjening", "0006_exercise_search_text"),
    ]

    operations = [
        migrations.RunPython(clear_foreign_references, migrations.RunPython.noop),
    ]
