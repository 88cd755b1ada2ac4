"""Offline-first as a stateful property: two phones of one citizen and a therapist, in any order.

A hypothesis state machine drives the API as they do: sessions logged online and offline (some invalid),
queues uploaded, sometimes with the answer lost and sent again, the same queue from both phones, edits
with the current and a stale version, syncs in small pages and walks interrupted and resumed later, and
the therapist pausing, resuming, revising and ending the plan. A model says what the server must hold
and answer; after every step the invariants are checked:

- the server holds exactly the model's sessions (nothing lost, nothing twice), with the latest accepted
  edit; a stale edit changed nothing; each slot is filled by at most one session, and done exactly when
  a session fills it;
- every answer is the model's, item by item: invalid items never affect valid ones, a resent item is
  ``unchanged``, a session done while the plan was paused or ended is refused whenever it arrives;
- a phone's store equals the server after a full sync, and a walk resumed after an interruption holds at
  least everything committed before the walk began;
- the staff's adherence figures agree with the sessions.

The short form runs in both CI passes (``OFFLINE_PROPERTY_PROFILE`` unset: a few hundred steps, derandomised,
a failure reported unshrunk); the long form is ``OFFLINE_PROPERTY_PROFILE=long .venv/bin/pytest -p no:randomly
tests/selvbetjening/test_offline_property.py`` (thousands of steps, random).
"""

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from backend.models import AppSession, StaffRole
from selvbetjening.models import EpisodeContact, SessionLog, TrainingPlanStatusChange, TrainingSlot
from selvbetjening.selectors.adherence import citizen_adherence, window_for
from selvbetjening.selectors.today import citizen_today
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.selvbetjening import factories
from tests.selvbetjening.test_sessions import local_day
from tests.selvbetjening.training_factories import make_plan, slot_at

SESSIONS = "/api/v1/me/session-logs"
# The short form is the same examples every run and reports a failure as found, unshrunk (shrinking a
# stateful run through the API takes minutes); the long form is random and shrinks.
PROFILES: dict[str, dict[str, Any]] = {
    "short": {
        "max_examples": 6,
        "stateful_step_count": 50,
        "derandomize": True,
        "phases": (Phase.explicit, Phase.generate),
    },
    "long": {"max_examples": 60, "stateful_step_count": 80, "derandomize": False},
}
PROFILE = PROFILES[os.environ.get("OFFLINE_PROPERTY_PROFILE", "short")]
INVALID_KINDS = ("no_exercises", "in_the_future", "unknown_exercise")


@dataclass
class Upload:
    """A session as the phone sends it, and what kind of upload it is."""

    body: dict[str, Any]
    invalid: str | None = None


@dataclass
class Phone:
    client: ApiClient
    queue: list[Upload] = field(default_factory=list)
    store: dict[str, dict[str, Any]] = field(default_factory=dict)
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    cursor: str | None = None
    walk: str | None = None
    walk_expects: dict[str, int] = field(default_factory=dict)

    def take_page(self, cursor: str | None, limit: int) -> dict[str, Any]:
        query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = self.client.get("/api/v1/me/sync", query)
        assert response.status_code == 200, response.content
        page = response.json()
        for log in page["session_logs"]:
            self.store[str(log["id"])] = log
        for slot in page["slots"]:
            self.slots[str(slot["id"])] = slot
        return page


@dataclass
class Stored:
    """A session the server holds: as first sent (a resend compares with it) and as edited since."""

    sent: dict[str, Any]
    body: dict[str, Any]
    version: int = 1


class OfflineFirst(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example in a savepoint of its own, rolled back at its end: examples never see each other.
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        municipality = core.MunicipalityFactory()
        team = core.TeamFactory(unit=core.OrganisationUnitFactory(municipality=municipality))
        self.citizen = core.CitizenFactory(municipality=municipality)
        core.CareRelationFactory(citizen=self.citizen, team=team)
        therapist = core.StaffFactory(municipality=municipality)
        core.MembershipFactory(staff=therapist, team=team, role=StaffRole.THERAPIST)
        episode = factories.EpisodeFactory(citizen=self.citizen, team=team, created_by=therapist.user)
        factories.EpisodeContactFactory(episode=episode, staff=therapist, role=EpisodeContact.Role.CONTACT_PERSON)
        self.plan = make_plan(episode=episode, exercises=2)
        self.slots = [
            slot_at(self.plan, local_day(day) + timedelta(hours=hour)) for day in (1, 2, 3) for hour in (8, 15)
        ]
        self.exercises = [str(item.exercise_id) for item in self.plan.current_version.exercises.order_by("position")]
        self.phones = [
            Phone(ApiClient(access_token_for(self.citizen.user, install_id=f"phone-{name}"))) for name in "ab"
        ]
        self.staff = ApiClient(access_token_for(therapist.user, audience=AppSession.Audience.STAFF))
        self.plan_version = self.plan.version
        self.status = "active"
        self.history: list[tuple[datetime, str]] = []
        self.stored: dict[str, Stored] = {}
        self.filled: dict[str, str] = {}

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    # --- The model -------------------------------------------------------------------------------

    def active_at(self, instant: datetime) -> bool:
        last = None
        for changed_at, to_status in self.history:
            if changed_at > instant:
                break
            last = to_status
        return last is None or last == "active"

    def expect(self, upload: Upload) -> tuple[int, str | None]:
        """What the server answers ``upload`` now, and the model after it."""
        body = upload.body
        if upload.invalid == "no_exercises":
            return 422, "validation_failed"
        known = self.stored.get(body["id"])
        if known is not None:
            return (200, None) if known.sent == body else (422, "id_reused")
        if upload.invalid == "in_the_future":
            return 422, "invalid"
        if not self.active_at(datetime.fromisoformat(body["performed_at"])):
            return 422, "plan_not_active"
        slot_id = body.get("slot_id")
        if slot_id is not None and slot_id in self.filled:
            return 409, "slot_already_filled"
        if upload.invalid == "unknown_exercise":
            return 422, "invalid"
        self.stored[body["id"]] = Stored(sent=dict(body), body=dict(body))
        if slot_id is not None:
            self.filled[slot_id] = body["id"]
        return 201, None

    def new_upload(self, data: st.DataObject) -> Upload:
        now = timezone.now()
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "training_plan_id": str(self.plan.pk),
            "pain_before": data.draw(st.integers(0, 10)),
            "pain_after": data.draw(st.integers(0, 10)),
            "effort": data.draw(st.integers(0, 10)),
            "note": data.draw(st.sampled_from(["", "Gik fint", "Knæet drillede"])),
            "exercises": [{"exercise_id": exercise_id, "sets": 2, "repetitions": 10} for exercise_id in self.exercises],
        }
        when = data.draw(st.sampled_from(["slot", "earlier", "just now"]))
        if when == "slot":
            slot = data.draw(st.sampled_from(self.slots))
            body["slot_id"] = str(slot.pk)
            body["performed_at"] = (slot.scheduled_at + timedelta(minutes=20)).isoformat()
        elif when == "earlier":
            body["performed_at"] = (now - timedelta(minutes=data.draw(st.integers(30, 3 * 24 * 60)))).isoformat()
        else:
            body["performed_at"] = (now - timedelta(microseconds=1)).isoformat()
        invalid = data.draw(st.sampled_from([None, None, None, None, *INVALID_KINDS]))
        if invalid == "no_exercises":
            body["exercises"] = []
        elif invalid == "in_the_future":
            body["performed_at"] = (now + timedelta(days=1)).isoformat()
        elif invalid == "unknown_exercise":
            body["exercises"] = [{"exercise_id": str(uuid.uuid4()), "sets": 1}]
            body.pop("slot_id", None)
        return Upload(body=body, invalid=invalid)

    # --- The phones ------------------------------------------------------------------------------

    @rule(phone=st.integers(0, 1), data=st.data())
    def log_online(self, phone: int, data: st.DataObject) -> None:
        upload = self.new_upload(data)
        response = self.phones[phone].client.post(SESSIONS, upload.body)
        status, code = self.expect(upload)
        assert response.status_code == status, (response.status_code, response.content, upload)
        if code is not None:
            assert response.json()["code"] == code

    @rule(phone=st.integers(0, 1), data=st.data())
    def log_offline(self, phone: int, data: st.DataObject) -> None:
        self.phones[phone].queue.append(self.new_upload(data))

    @rule(phone=st.integers(0, 1), answer_lost=st.booleans())
    def upload_queue(self, phone: int, answer_lost: bool) -> None:
        queue = self.phones[phone].queue
        if not queue:
            return
        response = self.phones[phone].client.post(f"{SESSIONS}/batch", {"items": [item.body for item in queue]})
        assert response.status_code == 200, response.content
        results = response.json()["results"]
        for upload, result in zip(queue, results, strict=True):
            status, code = self.expect(upload)
            assert result["http_status"] == status, (result, upload)
            if code is not None:
                assert result["problem"]["code"] == code, (result, upload)
            else:
                assert result["session_log"]["id"] == upload.body["id"]
        if not answer_lost:
            queue.clear()  # sent, or refused for good: the phone shows the refusals and drops them

    @rule()
    def share_queue(self) -> None:
        """The citizen's second phone holds the same queue (a restored backup, a shared tablet)."""
        self.phones[1].queue.extend(Upload(body=dict(item.body), invalid=item.invalid) for item in self.phones[0].queue)

    @rule(phone=st.integers(0, 1), data=st.data())
    def edit(self, phone: int, data: st.DataObject) -> None:
        # In the order the server accepted them, so a replay edits the same session whatever the random ids.
        known = [log_id for log_id in self.stored if log_id in self.phones[phone].store]
        if not known:
            return
        log_id = data.draw(st.sampled_from(known))
        stored = self.stored[log_id]
        is_stale = data.draw(st.booleans())
        version = (stored.version - 1 if stored.version > 1 else stored.version + 1) if is_stale else stored.version
        changes = {
            "note": data.draw(st.sampled_from(["Rettet", "Ondt bagefter", ""])),
            "effort": data.draw(st.integers(0, 10)),
        }
        response = self.phones[phone].client.patch(f"{SESSIONS}/{log_id}", {"version": version, **changes})
        if is_stale:
            assert response.status_code == 409 and response.json()["code"] == "stale_version", response.content
            return
        assert response.status_code == 200, response.content
        stored.body.update(changes)
        stored.version += 1

    @rule(phone=st.integers(0, 1), limit=st.integers(1, 4))
    def sync_fully(self, phone: int, limit: int) -> None:
        """A walk from the phone's last cursor to its end: the phone then holds what the server holds."""
        device = self.phones[phone]
        device.walk = None
        cursor = device.cursor
        while True:
            page = device.take_page(cursor, limit)
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        device.cursor = cursor
        self.converged(device)

    @rule(phone=st.integers(0, 1), limit=st.integers(1, 2))
    def sync_interrupted(self, phone: int, limit: int) -> None:
        """One page of a walk (a new one, or the one the phone is in), and the phone goes offline."""
        device = self.phones[phone]
        if device.walk is None:  # a new walk: it must end with at least what is there now
            device.walk_expects = {log_id: stored.version for log_id, stored in self.stored.items()}
        page = device.take_page(device.walk or device.cursor, limit)
        if page["has_more"]:
            device.walk = page["cursor"]
        else:
            device.cursor, device.walk = page["cursor"], None

    @precondition(lambda self: any(phone.walk for phone in self.phones))
    @rule(limit=st.integers(1, 4))
    def resume_walk(self, limit: int) -> None:
        """The interrupted walk goes on to its end: it holds at least what was there when it began."""
        device = next(phone for phone in self.phones if phone.walk)
        cursor = device.walk
        while True:
            page = device.take_page(cursor, limit)
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        device.cursor, device.walk = cursor, None
        for log_id, version in device.walk_expects.items():
            assert log_id in device.store and device.store[log_id]["version"] >= version, log_id

    # --- The therapist ---------------------------------------------------------------------------

    def change_status(self, status: str) -> None:
        response = self.staff.patch(
            f"/api/v1/training-plans/{self.plan.pk}", {"version": self.plan_version, "status": status}
        )
        assert response.status_code == 200, response.content
        self.plan_version = response.json()["version"]
        self.status = status
        change = TrainingPlanStatusChange.objects.filter(plan=self.plan).order_by("-changed_at", "-id").first()
        assert change is not None and change.to_status == status
        self.history.append((change.changed_at, status))

    @precondition(lambda self: self.status == "active")
    @rule()
    def pause(self) -> None:
        self.change_status("paused")

    @precondition(lambda self: self.status == "paused")
    @rule()
    def resume(self) -> None:
        self.change_status("active")

    @precondition(lambda self: self.status != "ended")
    @rule(data=st.data())
    def end_or_revise(self, data: st.DataObject) -> None:
        if data.draw(st.integers(0, 5)) == 0:
            self.change_status("ended")
            return
        grace = data.draw(st.integers(30, 600))
        response = self.staff.post(
            f"/api/v1/training-plans/{self.plan.pk}/versions",
            {"version": self.plan_version, "grace_minutes": grace, "change_note": "Justeret"},
        )
        assert response.status_code == 201, response.content
        self.plan_version = response.json()["version"]

    # --- Invariants ------------------------------------------------------------------------------

    def converged(self, device: Phone) -> None:
        mine = device.store
        assert set(mine) == set(self.stored), "the phone holds exactly the server's sessions"
        for log_id, stored in self.stored.items():
            log = mine[log_id]
            assert log["version"] == stored.version
            for name in ("pain_before", "pain_after", "effort", "note"):
                assert log[name] == stored.body[name], (log_id, name)
        for slot_id, log_id in self.filled.items():
            assert device.slots[slot_id]["status"] == "done"
            assert str(device.slots[slot_id]["session_log_id"]) == log_id

    @invariant()
    def server_holds_the_model(self) -> None:
        logs = {str(log.pk): log for log in SessionLog.objects.filter(citizen=self.citizen)}
        assert set(logs) == set(self.stored), "no session lost, none twice, none refused stored"
        for log_id, stored in self.stored.items():
            log = logs[log_id]
            assert (log.version, log.effort, log.note) == (stored.version, stored.body["effort"], stored.body["note"])
            assert (str(log.slot_id) if log.slot_id else None) == stored.body.get("slot_id")
        done = {
            str(slot.pk) for slot in TrainingSlot.objects.filter(pk__in=[slot.pk for slot in self.slots], status="done")
        }
        assert done == set(self.filled), "a slot is done exactly when a session fills it"

    @invariant()
    def staff_figures_agree(self) -> None:
        today = citizen_today(self.citizen, timezone.now())
        figures = citizen_adherence(self.citizen, window_for(today - timedelta(days=5), today)).total
        in_window = [
            stored
            for stored in self.stored.values()
            if citizen_today(self.citizen, datetime.fromisoformat(stored.body["performed_at"]))
            >= today - timedelta(days=5)
        ]
        assert figures.session_count == len(in_window)
        assert figures.filled == len(self.filled)
        assert figures.ad_hoc_sessions == sum("slot_id" not in stored.body for stored in in_window)


@pytest.mark.django_db
def test_offline_first_holds_whatever_two_phones_and_a_therapist_do():
    run_state_machine_as_test(
        OfflineFirst,
        settings=settings(
            **PROFILE,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            print_blob=True,
        ),
    )
