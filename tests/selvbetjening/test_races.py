"""Copies of one upload sent at the same moment, against a real server (gunicorn, 2 × 10 threads).

A phone that timed out resends while its first request still runs; two phones upload the same queue. The
copies must be answered as retries of each other: one 201, the others 200 with the same body (or an answer
that says to retry, which then becomes that 200), never a conflict that means someone else's data. A slot
wanted by sessions with *different* ids still goes to one of them, and the others are told it is filled.
Runs on SQLite and on PostgreSQL (CI's second pass).
"""

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.selvbetjening import factories
from tests.selvbetjening.live_server import Answer, LiveServer, at_once, live_server
from tests.selvbetjening.test_sessions import local_day, session_body
from tests.selvbetjening.training_factories import make_plan, slot_at

pytestmark = [pytest.mark.django_db(transaction=True)]

COPIES = 20
PHONES = 10
SESSIONS = "/api/v1/me/session-logs"
# What a copy may be told while its twin still runs: retry after a moment (the Idempotency-Key's answer),
# or, on SQLite, that the database stayed locked past its busy timeout (a loaded machine; 503).
RETRYABLE = {"idempotency_in_flight", "database_unavailable"}


def _same_json(answers: list[Answer]) -> set[str]:
    return {json.dumps(answer.body, sort_keys=True) for answer in answers}


def _one_created_the_rest_replayed(server: LiveServer, path: str, token: str, body: Any, **kwargs: Any) -> Answer:
    """``COPIES`` copies at once: one 201, the rest 200 with the same body; returns the 201."""
    results = at_once(COPIES, lambda _: server.post_retrying(path, token, body, **kwargs))
    finals = [final for final, _ in results]
    assert sorted(final.status for final in finals) == [200] * (COPIES - 1) + [201], [
        (final.status, final.body) for final in finals
    ]
    assert len(_same_json(finals)) == 1, "every copy is answered with the object as stored"
    waited = [answer.body.get("code") for _, retries in results for answer in retries]
    assert set(waited) <= RETRYABLE, waited
    return next(final for final in finals if final.status == 201)


@pytest.fixture
def scene(world, episode, tmp_path):
    plan = make_plan(episode=episode, exercises=2)
    slots = [slot_at(plan, local_day(3) + timedelta(hours=8 + hour)) for hour in range(10)]
    goal = factories.GoalFactory(episode=episode)
    with live_server(tmp_path) as server:
        yield server, plan, slots, goal


def test_sessions_sent_at_once(world, scene):
    server, plan, slots, _ = scene
    token = world.tokens["citizen"]

    # One session filling a slot, and one done ad hoc, each sent 20 times at once.
    body = session_body(plan, slot=slots[0])
    created = _one_created_the_rest_replayed(server, SESSIONS, token, body)
    assert created.body["id"] == body["id"] and created.body["slot_id"] == str(slots[0].pk)
    ad_hoc = session_body(plan)
    _one_created_the_rest_replayed(server, SESSIONS, token, ad_hoc)
    expected = [body["id"], ad_hoc["id"]]

    # Sessions with different ids for one slot: one fills it, the others are told it is filled.
    rivals = [session_body(plan, slot=slots[1]) for _ in range(PHONES)]
    answers = [
        final for final, _ in at_once(PHONES, lambda index: server.post_retrying(SESSIONS, token, rivals[index]))
    ]
    assert sorted(answer.status for answer in answers) == [201] + [409] * (PHONES - 1)
    assert {answer.body["code"] for answer in answers if answer.status == 409} == {"slot_already_filled"}
    expected += [answer.body["id"] for answer in answers if answer.status == 201]

    # One queue uploaded from ten phones at once, an invalid item among the valid ones.
    queue = [session_body(plan, slot=slot) for slot in slots[2:8]] + [session_body(plan) for _ in range(4)]
    queue.append({**session_body(plan), "exercises": []})
    answers = [
        final
        for final, _ in at_once(PHONES, lambda _: server.post_retrying(f"{SESSIONS}/batch", token, {"items": queue}))
    ]
    assert {answer.status for answer in answers} == {200}, [answer.body for answer in answers]
    for position, item in enumerate(queue[:-1]):
        results = [answer.body["results"][position] for answer in answers]
        assert sorted(result["status"] for result in results) == ["created"] + ["unchanged"] * (PHONES - 1), results
        assert len({json.dumps(result["session_log"], sort_keys=True) for result in results}) == 1
        assert results[0]["session_log"]["id"] == item["id"]
    assert {answer.body["results"][-1]["http_status"] for answer in answers} == {422}
    expected += [item["id"] for item in queue[:-1]]

    # With an Idempotency-Key the copies are told to retry, then get the first answer replayed as it was.
    keyed = session_body(plan, slot=slots[8])
    results = at_once(
        COPIES, lambda _: server.post_retrying(SESSIONS, token, keyed, headers={"Idempotency-Key": "queue-1"})
    )
    finals = [final for final, _ in results]
    assert {final.status for final in finals} == {201} and len(_same_json(finals)) == 1
    assert sum(final.headers.get("Idempotent-Replayed") != "true" for final in finals) == 1
    assert {answer.body["code"] for _, retries in results for answer in retries} <= RETRYABLE
    expected.append(keyed["id"])

    stored = server.request("GET", f"{SESSIONS}?limit=100", token).body["items"]
    assert sorted(item["id"] for item in stored) == sorted(expected), "each session once, nothing else"


def test_ratings_and_requests_sent_at_once(world, scene):
    server, _, _, goal = scene
    token = world.tokens["citizen"]
    rating = {"id": str(uuid.uuid4()), "gas_score": 1, "function_level": 2, "note": "Bedre"}
    _one_created_the_rest_replayed(server, f"/api/v1/me/goals/{goal.pk}/ratings", token, rating)
    ratings = server.request("GET", f"/api/v1/me/goals/{goal.pk}/ratings", token).body["items"]
    assert [item["id"] for item in ratings] == [rating["id"]]

    request = {"id": str(uuid.uuid4()), "category": "help", "text": "Kan I ringe?"}
    _one_created_the_rest_replayed(server, "/api/v1/me/requests", token, request)
    requests = server.request("GET", "/api/v1/me/requests", token).body["items"]
    assert [item["id"] for item in requests] == [request["id"]]
