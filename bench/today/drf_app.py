"""GET /api/v1/me/today written with Django REST Framework, for the benchmark's comparison.

Written as a DRF team would write it: an authentication class that resolves the same bearer token as
Mestring (``backend.auth.actor_for_access_token``: one statement, the same expiry, revocation and
``last_used_at`` checks), a permission class for citizens, a serializer for the query, nested
``ModelSerializer``s for slots, their version's exercises and the exercises' pictures, and
``select_related``/``prefetch_related`` so that the number of queries does not grow with the data
(token, slots, plan exercises, pictures, next reminder, access-log insert: the same six as Mestring).
The access-log row is written through the same ``read_logged`` before the answer leaves. The JSON is
the same as Mestring's for the same citizen and day.

Served by ``config.wsgi`` with ``DJANGO_SETTINGS_MODULE=bench.today.drf_settings``.
"""

from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.utils import timezone
from rest_framework import exceptions, permissions, serializers
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend import i18n
from backend.actors import CITIZEN
from backend.audit import read_logged
from backend.auth import actor_for_access_token
from backend.models import User
from selvbetjening.api.auth import acting_as_citizen
from selvbetjening.media import IMAGE_SIZES, exercise_image_url
from selvbetjening.models import ExerciseImage, PlanExercise, TrainingPlan, TrainingSlot
from selvbetjening.selectors.today import STATUS_NAMES, citizen_zone

# --- Authentication and permission -------------------------------------------------------------------


class AccessTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <access token>``: the actor the token stands for, as the citizen."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Malformed access token.") from exc
        actor = actor_for_access_token(raw)
        if actor is None:
            raise exceptions.AuthenticationFailed("Not authenticated.")
        return actor.user, acting_as_citizen(actor)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class IsCitizen(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.auth is not None and CITIZEN in request.auth.roles


# --- Serializers -------------------------------------------------------------------------------------


class TodayQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False)


class ExerciseImageSerializer(serializers.ModelSerializer):
    alt_text = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()

    class Meta:
        model = ExerciseImage
        fields = ["id", "alt_text", "width", "height", "urls"]

    def get_alt_text(self, image: ExerciseImage) -> str:
        return getattr(image, f"alt_text_{self.context['language']}")

    def get_urls(self, image: ExerciseImage) -> dict[str, str]:
        return {size: exercise_image_url(image.pk, size) for size in IMAGE_SIZES}


class PlanExerciseSerializer(serializers.ModelSerializer):
    plan_exercise_id = serializers.UUIDField(source="id")
    exercise_id = serializers.UUIDField()
    title = serializers.SerializerMethodField()
    instructions = serializers.SerializerMethodField()
    individual_instructions = serializers.CharField(source="instructions")
    video_url = serializers.CharField(source="exercise.video_url")
    load_kg = serializers.FloatField(allow_null=True)
    images = ExerciseImageSerializer(source="exercise.images", many=True)

    class Meta:
        model = PlanExercise
        fields = [
            "plan_exercise_id",
            "exercise_id",
            "position",
            "title",
            "instructions",
            "individual_instructions",
            "video_url",
            "sets",
            "repetitions",
            "hold_seconds",
            "duration_seconds",
            "load_kg",
            "images",
        ]

    def get_title(self, plan_exercise: PlanExercise) -> str:
        return getattr(plan_exercise.exercise, f"title_{self.context['language']}")

    def get_instructions(self, plan_exercise: PlanExercise) -> str:
        return getattr(plan_exercise.exercise, f"instructions_{self.context['language']}")


class TrainingSlotSerializer(serializers.ModelSerializer):
    training_plan_id = serializers.UUIDField(source="plan_id")
    plan_title = serializers.CharField(source="plan.title")
    plan_version_id = serializers.UUIDField(source="version_id")
    plan_version_number = serializers.IntegerField(source="version.number")
    scheduled_local = serializers.SerializerMethodField()
    status_name = serializers.SerializerMethodField()
    session_log_id = serializers.SerializerMethodField()
    exercises = PlanExerciseSerializer(source="version.exercises", many=True)

    class Meta:
        model = TrainingSlot
        fields = [
            "id",
            "training_plan_id",
            "plan_title",
            "plan_version_id",
            "plan_version_number",
            "scheduled_at",
            "scheduled_local",
            "due_until",
            "status",
            "status_name",
            "session_log_id",
            "exercises",
        ]

    def get_scheduled_local(self, slot: TrainingSlot) -> str:
        return slot.scheduled_at.astimezone(ZoneInfo(slot.version.time_zone)).isoformat()

    def get_status_name(self, slot: TrainingSlot) -> str:
        return STATUS_NAMES[self.context["language"]].get(slot.status, slot.status)

    def get_session_log_id(self, slot: TrainingSlot) -> str | None:
        try:
            return str(slot.session_log.pk)
        except ObjectDoesNotExist:
            return None


class TodaySerializer(serializers.Serializer):
    date = serializers.DateField()
    time_zone = serializers.CharField()
    slots = TrainingSlotSerializer(many=True)
    next_reminder_at = serializers.DateTimeField(allow_null=True)


# --- View --------------------------------------------------------------------------------------------


class TodayView(APIView):
    """The day's slots of the citizen's active plans with exercises, dosage and pictures; the next reminder."""

    authentication_classes = [AccessTokenAuthentication]
    permission_classes = [IsCitizen]

    def get_queryset(self, citizen: Any, day: Any) -> Any:
        pictures = ExerciseImage.objects.order_by("position", "created_at")
        exercises = (
            PlanExercise.objects.select_related("exercise")
            .prefetch_related(Prefetch("exercise__images", queryset=pictures))
            .order_by("position", "id")
        )
        return (
            TrainingSlot.objects.filter(citizen=citizen, local_date=day, plan__status=TrainingPlan.Status.ACTIVE)
            .exclude(status=TrainingSlot.Status.CANCELLED)
            .select_related("plan", "version", "session_log")
            .prefetch_related(Prefetch("version__exercises", queryset=exercises))
            .order_by("scheduled_at", "id")
        )

    def get(self, request: Request) -> Response:
        query = TodayQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        citizen = request.auth.citizen
        now = timezone.now()
        zone = citizen_zone(citizen)
        day = query.validated_data.get("date") or now.astimezone(zone).date()
        slots = list(self.get_queryset(citizen, day))
        next_reminder_at = (
            TrainingSlot.objects.filter(
                citizen=citizen,
                status=TrainingSlot.Status.PENDING,
                scheduled_at__gt=now,
                plan__status=TrainingPlan.Status.ACTIVE,
            )
            .order_by("scheduled_at")
            .values_list("scheduled_at", flat=True)
            .first()
        )
        serializer = TodaySerializer(
            {"date": day, "time_zone": str(zone), "slots": slots, "next_reminder_at": next_reminder_at},
            context={"request": request, "language": i18n.language()},
        )
        data = serializer.data
        read_logged(request.auth, [citizen] if slots or next_reminder_at else [], "training")
        return Response(data)
