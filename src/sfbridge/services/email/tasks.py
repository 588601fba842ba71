"""The email-cases jobs (registered on the job app by ``compose``)."""

from __future__ import annotations

from procrastinate import Blueprint


def register(blueprint: Blueprint) -> None:
    """Register the email-cases tasks on ``blueprint``."""
    del blueprint  # the tasks arrive with the email-cases service
