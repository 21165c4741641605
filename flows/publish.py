"""What a poll leaves in Prefect: a table artifact, a summary when something failed, events."""

from __future__ import annotations

from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.events import emit_event

from poller.poll import PollReport


def _artifact_key(connection: str) -> str:
    return f"poll-{connection}"


async def publish_report(report: PollReport) -> None:
    key = _artifact_key(report.connection)
    await acreate_table_artifact(table=report.table(), key=key, description=report.summary())
    problems = list(report.quarantined)
    if report.error:
        problems.insert(0, f"**{report.error_type}**: {report.error}")
    if problems:
        lines = "\n".join(f"- {problem}" for problem in problems)
        await acreate_markdown_artifact(
            markdown=f"# Poll of {report.connection}: problems\n\n{lines}\n",
            key=f"{key}-problems",
            description="What went wrong in this poll",
        )
    emit_event(
        event=f"poller.poll.{report.status}",
        resource={
            "prefect.resource.id": f"poller.connection.{report.connection}",
            "prefect.resource.name": report.connection,
        },
        payload={
            "orders_seen": report.orders_seen,
            "queued": report.queued,
            "delivered": report.sent.delivered + report.retried.delivered,
            "failed": report.sent.failed + report.retried.failed,
            "dead_lettered": report.sent.dead + report.retried.dead,
            "quarantined": len(report.quarantined),
            "error": report.error,
        },
    )
