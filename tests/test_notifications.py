"""The notification outbox against a real SMTP server (aiosmtpd) run by the tests."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import ckan.model as model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance import notifications
from ckanext.governance.model import Notification

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

LATER = dt.timedelta(hours=7)  # past any backoff


def tier_change_notice(n_admins: int = 1):
    """A real fact that writes notifications: an editor changes a dataset's tier."""
    admins = [factories.User(email=f"admin{i}@example.org", fullname=f"Admin {i}")
              for i in range(n_admins)]
    editor = factories.User()
    org = factories.Organization(users=[{"name": a["name"], "capacity": "admin"} for a in admins]
                                 + [{"name": editor["name"], "capacity": "editor"}])
    pkg = call_action("package_create", {"user": editor["name"]}, name="rivers",
                      title="Rivers & lakes", owner_org=org["id"], access_tier="controlled")
    call_action("package_patch", {"user": editor["name"]}, id=pkg["id"], access_tier="open")
    return admins, editor


def outbox() -> list[Notification]:
    model.Session.expire_all()
    return model.Session.query(Notification).order_by(Notification.id).all()


def test_tier_change_notice_is_delivered_by_mail_with_text_and_html(smtp):
    smtp.start()
    admins, editor = tier_change_notice()
    assert notifications.send_due() == {"sent": 1, "failed": 0}

    (msg,) = smtp.inbox.messages
    assert msg["To"].addresses[0].addr_spec == "admin0@example.org"
    assert msg["Subject"] == 'Access to "Rivers & lakes" changed to Open'
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "from Controlled access to Open" in text
    assert "Rivers & lakes" in text  # plain text is not HTML-escaped
    assert "Rivers &amp; lakes" in html
    assert "/dataset/rivers" in text
    assert [n.status for n in outbox()] == ["sent"]


def test_notification_written_while_smtp_is_down_is_delivered_once_it_is_back(smtp):
    tier_change_notice()
    assert notifications.send_due() == {"sent": 0, "failed": 1}
    (row,) = outbox()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt > dt.datetime.now(dt.timezone.utc)
    assert "SMTP server could not be connected" in row.last_error

    smtp.start()
    # Not due yet: the backoff holds it back.
    assert notifications.send_due() == {"sent": 0, "failed": 0}
    later = dt.datetime.now(dt.timezone.utc) + LATER
    assert notifications.send_due(now=later) == {"sent": 1, "failed": 0}
    assert notifications.send_due(now=later) == {"sent": 0, "failed": 0}
    assert len(smtp.inbox.messages) == 1
    assert [n.status for n in outbox()] == ["sent"]


def test_two_senders_at_once_deliver_each_notification_once(smtp, concurrently):
    smtp.start(delay=0.02)
    tier_change_notice(n_admins=12)
    assert len(outbox()) == 12
    results, errors = concurrently(notifications.send_due, 2)
    assert errors == []

    ids = sorted(m["X-Governance-Notification"] for m in smtp.inbox.messages)
    assert len(ids) == 12 and len(set(ids)) == 12
    assert sum(r["sent"] for r in results) == 12
    assert all(r["sent"] > 0 for r in results), results  # both really worked
    assert {n.status for n in outbox()} == {"sent"}


def test_fact_rolled_back_leaves_neither_event_nor_notification():
    from ckanext.governance.model import Event

    admins, editor = [factories.User(email="a@example.org")], factories.User()
    org = factories.Organization(users=[{"name": admins[0]["name"], "capacity": "admin"},
                                        {"name": editor["name"], "capacity": "editor"}])
    pkg = call_action("package_create", {"user": editor["name"]}, name="rivers",
                      owner_org=org["id"], access_tier="controlled")
    before = (model.Session.query(Event).count(), len(outbox()))
    with pytest.raises(Exception):
        # The tier change is valid, the title is not: CKAN refuses the whole update.
        call_action("package_patch", {"user": editor["name"]}, id=pkg["id"],
                    access_tier="open", name="x")
    model.Session.remove()
    assert (model.Session.query(Event).count(), len(outbox())) == before
    assert call_action("package_show", {"user": editor["name"]}, id="rivers")["access_tier"] == "controlled"


def test_notifications_that_keep_failing_are_marked_failed_and_can_be_retried(smtp, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.governance.notify.max_attempts", 2)
    tier_change_notice()
    now = dt.datetime.now(dt.timezone.utc)
    notifications.send_due(now=now)
    notifications.send_due(now=now + LATER)
    assert [(n.status, n.attempts) for n in outbox()] == [("failed", 2)]
    assert notifications.send_due(now=now + 2 * LATER) == {"sent": 0, "failed": 0}

    smtp.start()
    assert notifications.retry_failed() == 1
    assert notifications.send_due() == {"sent": 1, "failed": 0}
    assert len(smtp.inbox.messages) == 1


def test_no_mail_configuration_keeps_the_notification_queued(ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "smtp.server", "")
    tier_change_notice()
    assert notifications.send_due() == {"sent": 0, "failed": 1}
    assert "no smtp.server" in outbox()[0].last_error


def test_commit_with_notifications_queues_a_delivery_job_the_worker_runs(smtp):
    import ckan.lib.jobs as jobs

    smtp.start()
    queue = jobs.get_queue()
    queue.empty()
    tier_change_notice()
    titles = [j.meta.get("title") for j in queue.jobs]
    assert notifications.JOB_TITLE in titles
    jobs.Worker([jobs.DEFAULT_QUEUE_NAME]).work(burst=True)
    assert len(smtp.inbox.messages) == 1


def test_cli_notify_send_delivers_what_is_due(smtp, cli):
    from ckan.cli.cli import ckan as ckan_cli

    smtp.start()
    tier_change_notice()
    # The command loads test.ini afresh; CKAN reads smtp.server from this variable over it.
    result = cli.invoke(ckan_cli, ["governance", "notify", "send"],
                        env={"CKAN_SMTP_SERVER": smtp.address})
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 failed" in result.output
    assert len(smtp.inbox.messages) == 1
    model.Session.remove()
    assert model.Session.execute(
        sa.select(sa.func.count()).select_from(Notification).where(Notification.status == "pending")
    ).scalar_one() == 0
