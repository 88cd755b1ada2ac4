"""Filters that put codes into words on the staff pages (the words live in ``staffweb.present``)."""

from datetime import time

from django import template

from staffweb import present

register = template.Library()


@register.filter
def schedule_words(rule: str, start_time: time) -> str:
    return present.schedule_words(rule, start_time)


@register.filter
def decision_reason(reason: str) -> str:
    return present.decision_reason(reason)
