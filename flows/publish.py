"""What a poll leaves in Prefect: a table artifact, a summary when something failed, and
events that carry the connection as their resource so Automations can act on them."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.events import emit_event

from poller.errors import one_line
from poller.poll_report import PollReport

MOST_NAMES_IN_AN_EVENT = 100


def _resource(connection: str) -> dict[str, str]:
    return {
        "prefect.resource.id": f"poller.connection.{connection}",
        "prefect.resource.name": connection,
    }


async def publish_report(report: PollReport) -> None:
    """Publish the poll's artifact and events, and log an internal error's traceback. The
    poll is recorded already: a Prefect API that fails here costs a warning, not the poll."""
    logger = get_run_logger()
    if report.traceback:
        logger.error("poll of %s failed: %s\n%s", report.connection, report.error, report.traceback)
    try:
        await _publish(report)
    except Exception as exc:
        logger.warning("could not publish the poll of %s: %s", report.connection, one_line(exc))


async def _publish(report: PollReport) -> None:
    key = f"poll-{report.connection}"
    await acreate_table_artifact(table=report.table(), key=key, description=report.summary())
    problems = _problems(report)
    if problems:
        lines = "\n".join(f"- {problem}" for problem in problems)
        await acreate_markdown_artifact(
            markdown=f"# Poll of {report.connection}: problems\n\n{lines}\n",
            key=f"{key}-problems",
            description="What went wrong in this poll",
        )
    for event, payload in poll_events(report):
        emit_event(event=event, resource=_resource(report.connection), payload=payload)


def _problems(report: PollReport) -> list[str]:
    problems = list(report.quarantined)
    if report.error:
        problems.insert(0, f"**{report.error_type}**: {report.error}")
    problems += [
        f"dead-lettered {dead}" for dead in report.sent.dead_orders + report.retried.dead_orders
    ]
    if report.sent.gone or report.retried.gone:
        problems.append("the webhook endpoint answered 410 Gone: deliveries are stopped")
    return problems


def poll_events(report: PollReport) -> list[tuple[str, dict[str, Any]]]:
    """The events of one poll: its outcome, what was delivered, what died, the breaker."""
    events: list[tuple[str, dict[str, Any]]] = [
        (
            f"poller.poll.{report.status}",
            {
                "orders_seen": report.orders_seen,
                "queued": report.queued,
                "delivered": report.sent.delivered + report.retried.delivered,
                "failed": report.sent.failed + report.retried.failed,
                "dead_lettered": report.sent.dead + report.retried.dead,
                "quarantined": len(report.quarantined),
                "error": report.error or report.reason,
                "worker": report.worker,
            },
        )
    ]
    delivered = report.sent.delivered_orders + report.retried.delivered_orders
    if delivered:
        events.append(
            (
                "poller.order.delivered",
                {
                    "count": len(delivered),
                    "orders": delivered[:MOST_NAMES_IN_AN_EVENT],
                    "worker": report.worker,
                },
            )
        )
    for dead in report.sent.dead_orders + report.retried.dead_orders:
        events.append(("poller.delivery.dead_lettered", {"delivery": dead}))
    if report.circuit:
        events.append(
            (f"poller.circuit.{report.circuit}", {"error": report.error, "worker": report.worker})
        )
    return events
