"""The standard object catalogue of a fresh org.

:func:`standard_objects` builds new ``ObjectDef`` instances on every call, so each org owns
its schema (custom fields added to one org never leak into another).
"""

from __future__ import annotations

from sfemu.model import ObjectDef
from sfemu.objects import activity, sales, service, setup


def standard_objects() -> dict[str, ObjectDef]:
    """A fresh copy of every standard object, keyed by API name."""
    builders = (
        sales.account,
        sales.contact,
        sales.lead,
        sales.opportunity,
        service.case,
        service.case_comment,
        service.email_message,
        activity.task,
        activity.event,
        setup.user,
        setup.profile,
        setup.group,
        setup.organization,
        setup.case_status,
        setup.task_status,
        setup.lead_status,
        setup.opportunity_stage,
    )
    objects = (build() for build in builders)
    return {obj.name: obj for obj in objects}
