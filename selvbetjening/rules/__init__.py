"""Domain rules of self-service, one module per concept, free of requests and responses.

Schemas, services, selectors and hand-written SQL call these functions rather than restating a rule:

- ``dosage``: what an exercise of a plan or a template may prescribe, and how its dosage advances;
- ``slots``: when a training slot is due, filled, missed or still to come (Python, ORM and SQL);
- ``schedule``: recurrence rules read as local wall-clock times in the citizen's zone;
- ``gas``: the Goal Attainment Scaling T-score;
- ``questionnaires``: questionnaire definitions, enabled items, answers and scores.
"""
