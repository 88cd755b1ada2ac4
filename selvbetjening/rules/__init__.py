"""Domain rules of self-service, one module per concept, free of requests and responses.

Schemas, services, selectors and hand-written SQL call these functions rather than restating a rule:

- ``dosage``: what an exercise of a plan or a template may prescribe, and how its dosage advances;
- ``slots``: until when a training slot may be filled, and when it is due, filled, missed or still to
  come (Python, ORM and SQL);
- ``requests``: when a citizen's request is overdue for the team, and when its deadline was missed;
- ``schedule``: recurrence rules read as local wall-clock times in the citizen's zone;
- ``gas``: the Goal Attainment Scaling T-score;
- ``questionnaires``: questionnaire definitions, enabled items, answers and scores.
"""
