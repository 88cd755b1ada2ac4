"""Seeds the device categories, and gives any device registered before the catalogue a placeholder model."""

from django.db import migrations

CATEGORIES = [
    ("fall_detector", "Faldalarm / personlig alarm", "Fall detector / personal alarm", False),
    ("medicine_dispenser", "Medicindispenser", "Medicine dispenser", False),
    ("gps_tracker", "GPS-tracker", "GPS tracker", True),
    ("bed_sensor", "Sengesensor", "Bed sensor", True),
    ("door_sensor", "Dørsensor", "Door sensor", True),
    ("video_tablet", "Skærm til videobesøg", "Video tablet", False),
    ("camera", "Kamera / tilsynskamera", "Camera", True),
    ("wash_dry_toilet", "Vasketoilet", "Wash-and-dry toilet", False),
    ("robotic_vacuum", "Robotstøvsuger", "Robotic vacuum", False),
    ("lift", "Loftlift / personløfter", "Lift", False),
    ("other", "Andet", "Other", False),
]
PLACEHOLDER = ("Ukendt", "UKENDT")


def forwards(apps, schema_editor):
    category_model = apps.get_model("velfaerdsteknologi", "DeviceCategory")
    for code, name, name_en, is_surveillance in CATEGORIES:
        category_model.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "is_surveillance": is_surveillance}
        )
    device_model = apps.get_model("velfaerdsteknologi", "Device")
    unmodelled = device_model.objects.filter(model__isnull=True)
    if unmodelled.exists():
        catalogue_model = apps.get_model("velfaerdsteknologi", "DeviceModel")
        placeholder, _ = catalogue_model.objects.get_or_create(
            manufacturer=PLACEHOLDER[0], model_number=PLACEHOLDER[1], defaults={"category_id": "other"}
        )
        unmodelled.update(model=placeholder)


def backwards(apps, schema_editor):
    catalogue_model = apps.get_model("velfaerdsteknologi", "DeviceModel")
    device_model = apps.get_model("velfaerdsteknologi", "Device")
    device_model.objects.filter(model__manufacturer=PLACEHOLDER[0], model__model_number=PLACEHOLDER[1]).update(
        model=None
    )
    catalogue_model.objects.filter(manufacturer=PLACEHOLDER[0], model_number=PLACEHOLDER[1]).delete()
    apps.get_model("velfaerdsteknologi", "DeviceCategory").objects.filter(
        code__in=[code for code, *_ in CATEGORIES], device_models__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("velfaerdsteknologi", "0002_catalogue_lifecycle_telemetry")]

    operations = [migrations.RunPython(forwards, backwards)]
