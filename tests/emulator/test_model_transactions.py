"""Transactions (allOrNone), savepoints and after-commit listeners."""

import pytest

from sfemu.events import WriteEvent
from sfemu.model import ApiError
from sfemu.org import Org


@pytest.fixture(name="org")
def _org() -> Org:
    return Org.default()


@pytest.fixture(name="events")
def _events(org: Org) -> list[WriteEvent]:
    seen: list[WriteEvent] = []
    org.add_listener(seen.append)
    return seen


def test_each_write_notifies_after_commit(org: Org, events: list[WriteEvent]) -> None:
    admin = org.admin_user_id
    case = org.create("Case", {"Subject": "s"}, user_id=admin)
    org.update("Case", case, {"Subject": "t", "Priority": "Medium"}, user_id=admin)
    org.delete("Case", case, user_id=admin)
    assert [(e.kind, e.object_name, e.record_id) for e in events] == [
        ("insert", "Case", case),
        ("update", "Case", case),
        ("delete", "Case", case),
    ]
    insert, update, delete = events
    assert insert.old is None and insert.new is not None and "Subject" in insert.changed_fields
    assert update.old is not None and update.new is not None
    assert update.old["Subject"] == "s" and update.new["Subject"] == "t"
    # Priority was already Medium: it did not change.
    assert "Subject" in update.changed_fields
    assert "Priority" not in update.changed_fields
    assert delete.new is None and delete.changed_fields == frozenset({"IsDeleted"})


def test_rollback_undoes_every_write(org: Org, events: list[WriteEvent]) -> None:
    admin = org.admin_user_id
    kept = org.create("Case", {"Subject": "kept", "conversationId__c": "k"}, user_id=admin)
    events.clear()
    with pytest.raises(ApiError), org.transaction():
        org.create("Case", {"Subject": "new", "conversationId__c": "n"}, user_id=admin)
        org.update("Case", kept, {"Subject": "changed", "conversationId__c": "k2"}, user_id=admin)
        org.delete("Case", kept, user_id=admin)
        org.create("Case", {"Status": "Bad"}, user_id=admin)
    assert events == []
    assert [r["Subject"] for r in org.rows("Case", include_deleted=True)] == ["kept"]
    assert (
        org.deleted_records("Case", org.now().replace(year=2000), org.now().replace(year=2100))
        == []
    )
    # Indexes follow the rollback.
    assert [r["Id"] for r in org.lookup("Case", "conversationId__c", "k") or []] == [kept]
    assert org.lookup("Case", "conversationId__c", "k2") == []
    assert org.lookup("Case", "conversationId__c", "n") == []
    # And the rolled-back values are free again.
    org.create("Case", {"conversationId__c": "n"}, user_id=admin)


def test_listeners_run_only_when_the_outermost_block_commits(
    org: Org, events: list[WriteEvent]
) -> None:
    admin = org.admin_user_id
    with org.transaction():
        with org.transaction():
            first = org.create("Case", {}, user_id=admin)
        assert events == []
        second = org.create("Case", {}, user_id=admin)
        assert events == []
    assert [e.record_id for e in events] == [first, second]


def test_inner_block_is_a_savepoint(org: Org, events: list[WriteEvent]) -> None:
    admin = org.admin_user_id
    with org.transaction():
        kept = org.create("Case", {"Subject": "kept"}, user_id=admin)
        try:
            with org.transaction():
                org.create("Case", {"Subject": "dropped"}, user_id=admin)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert [r["Subject"] for r in org.rows("Case")] == ["kept"]
    assert [e.record_id for e in events] == [kept]


def test_a_failing_listener_does_not_break_writes(org: Org) -> None:
    seen: list[str] = []

    def broken(event: WriteEvent) -> None:
        raise RuntimeError("listener bug")

    org.add_listener(broken)
    org.add_listener(lambda e: seen.append(e.record_id))
    case = org.create("Case", {}, user_id=org.admin_user_id)
    assert seen == [case]
    org.remove_listener(broken)


def test_listener_can_write_back(org: Org) -> None:
    """Like an @future callout that updates the record it saw: runs after commit."""

    def on_case(event: WriteEvent) -> None:
        if event.kind == "insert" and event.object_name == "Case":
            org.update("Case", event.record_id, {"Subject": "touched"}, user_id=org.admin_user_id)

    org.add_listener(on_case)
    case = org.create("Case", {"Subject": "s"}, user_id=org.admin_user_id)
    assert org.retrieve("Case", case, user_id=org.admin_user_id)["Subject"] == "touched"


def test_event_snapshots_do_not_change_later(org: Org, events: list[WriteEvent]) -> None:
    admin = org.admin_user_id
    case = org.create("Case", {"Subject": "one"}, user_id=admin)
    org.update("Case", case, {"Subject": "two"}, user_id=admin)
    assert events[0].new is not None and events[0].new["Subject"] == "one"
