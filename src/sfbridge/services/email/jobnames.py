"""Task names and lock keys of the email-cases jobs (one place, so callers agree)."""

from __future__ import annotations

PROCESS_INBOUND = "process_inbound_mail"
HANDOFF = "handoff"
PUSH_MESSAGE = "push_message"
SEND_REPLY = "send_reply"
WEBHOOK_EVENT = "handle_webhook_event"
RECONCILE = "reconcile_cases"


def sender_lock(workspace_id: str, sender: str) -> str:
    """Mail of one sender is processed in order."""
    return f"mail:{workspace_id}:{sender.lower()}"


def session_lock(workspace_id: str, session_id: str) -> str:
    """Salesforce work on one session runs in order (handoff, then comments)."""
    return f"session:{workspace_id}:{session_id}"


def case_lock(workspace_id: str, case_id: str) -> str:
    """The webhook endpoint queues with this lock; our own syncs use it too."""
    return f"case:{workspace_id}:{case_id}"


def outbox_lock(workspace_id: str, outbox_id: int) -> str:
    """One send attempt of a message at a time."""
    return f"outbox:{workspace_id}:{outbox_id}"
