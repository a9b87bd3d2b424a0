"""The notification outbox: written with the fact, delivered later, never lost.

``enqueue`` adds a row to the current session, so a notification exists if and
only if the fact that caused it was committed. ``send_due`` delivers what is due
through CKAN's mailer (INotifier plugins and the site's smtp.* settings apply),
one row per transaction under ``FOR UPDATE SKIP LOCKED``: any number of senders
(background jobs, cron's ``ckan governance notify send``) can run at once and
each message is marked sent exactly once. A failure is retried with backoff.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.helpers import _get_auto_flask_context
from ckan.lib.mailer import mail_recipient

from . import clock, config
from .model import Notification

log = logging.getLogger(__name__)


TEMPLATES = "governance/emails"


def dataset_variables(pkg: model.Package | None = None, package_id: str | None = None) -> dict[str, str]:
    """The dataset's title and address, as every e-mail about a dataset names it."""
    if pkg is None:
        pkg = model.Package.get(package_id or "")
    if pkg is None:
        return {"dataset_title": package_id or "",
                "dataset_url": tk.url_for("dataset.read", id=package_id, qualified=True)}
    return {"dataset_title": pkg.title or pkg.name,
            "dataset_url": tk.url_for("dataset.read", id=pkg.name, qualified=True)}


JOB_TITLE = "governance: deliver notifications"


# Set on the session when a transaction adds notifications: after its commit
# a delivery job is queued (if Redis is there; cron delivers otherwise).
_SESSION_FLAG = "governance_notifications_added"


def enqueue(user: model.User, template: str, variables: dict[str, Any]) -> Notification | None:
    """Add a notification for ``user`` to the current session (no commit).

    ``template`` names ``templates/governance/emails/<template>.{subject,txt,html}``.
    Users without an e-mail address get nothing.
    """
    if not user.email:
        log.info("No e-mail address for %s: %s notification not queued", user.name, template)
        return None
    row = Notification(
        recipient_id=user.id,
        recipient_name=user.fullname or user.name,
        recipient_email=user.email,
        template=template,
        variables=variables,
    )
    model.Session.add(row)
    model.Session.info[_SESSION_FLAG] = True
    return row


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the n-th failed attempt: 1, 2, 4 ... minutes, at most 6 hours."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def send_due(now: dt.datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Deliver the notifications that are due; returns counts of sent and failed."""
    counts = {"sent": 0, "failed": 0}
    while limit is None or counts["sent"] + counts["failed"] < limit:
        when = now or clock.now()
        row = model.Session.execute(
            sa.select(Notification)
            .where(Notification.status == "pending", Notification.next_attempt <= when)
            .order_by(Notification.next_attempt, Notification.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if row is None:
            model.Session.rollback()
            break
        try:
            _deliver(row)
        except Exception as err:  # noqa: BLE001 - any failure is retried
            row.attempts += 1
            row.last_error = f"{type(err).__name__}: {err}"[:2000]
            if row.attempts >= config.notify_max_attempts():
                row.status = "failed"
            else:
                row.next_attempt = when + backoff(row.attempts)
            counts["failed"] += 1
            log.warning("Notification %s not delivered (attempt %s): %s",
                        row.id, row.attempts, row.last_error)
        else:
            row.status = "sent"
            row.sent = clock.now()
            row.attempts += 1
            counts["sent"] += 1
        model.Session.commit()
    return counts


def retry_failed() -> int:
    """Give notifications that ran out of attempts another round."""
    result = model.Session.execute(
        sa.update(Notification)
        .where(Notification.status == "failed")
        .values(status="pending", attempts=0, next_attempt=clock.now())
    )
    model.Session.commit()
    return result.rowcount or 0


def _rendering_context() -> Any:
    """A Flask request context for templates outside web requests (cron,
    background jobs): the one CKAN itself uses for url_for there."""
    return _get_auto_flask_context() or contextlib.nullcontext()


def _deliver(row: Notification) -> None:
    variables = dict(row.variables or {}, recipient_name=row.recipient_name)
    with _rendering_context():
        subject = tk.render(f"{TEMPLATES}/{row.template}.subject.txt", variables).strip()
        body = tk.render(f"{TEMPLATES}/{row.template}.txt", variables)
        body_html = tk.render(f"{TEMPLATES}/{row.template}.html", variables)
    if not tk.config.get("smtp.server") and not list(p.PluginImplementations(p.INotifier)):
        # CKAN's mailer silently drops mail without smtp.server: keep it queued.
        raise RuntimeError("no smtp.server configured and no INotifier plugin")

    mail_recipient(
        row.recipient_name, row.recipient_email, subject, body, body_html=body_html,
        headers={"X-Governance-Notification": str(row.id)},
    )


def deliver_job() -> None:
    """Background job: deliver what is due (queued after commits that add mail)."""
    counts = send_due()
    log.info("Governance notifications: %s sent, %s failed", counts["sent"], counts["failed"])


def _after_commit(session: Any) -> None:
    if not session.info.pop(_SESSION_FLAG, False):
        return
    try:
        tk.enqueue_job(deliver_job, title=JOB_TITLE, rq_kwargs={"ttl": 3600})
    except Exception as err:  # noqa: BLE001 - cron delivers when Redis is away
        log.warning("Could not queue notification delivery (%s); "
                    "`ckan governance notify send` will deliver them", err)


def _after_rollback(session: Any) -> None:
    session.info.pop(_SESSION_FLAG, None)


def listen() -> None:
    """Queue delivery after each commit that added notifications."""
    for name, fn in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not sa.event.contains(model.Session, name, fn):
            sa.event.listen(model.Session, name, fn)
