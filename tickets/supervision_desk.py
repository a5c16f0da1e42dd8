"""督办列表 as staff read it in their chat app: the rows of ``escalation.under_supervision``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Outbound
from dialogs.texts import text
from storage.models import Staff
from tickets import escalation, staff_actions

if TYPE_CHECKING:
    from tickets.context import Workflow


async def listing(flow: Workflow, session: AsyncSession, staff: Staff, now: datetime) -> Outbound:
    """Supervisors and admins only (the list names other departments' late tickets); audited."""
    loc = staff.locale
    if not staff_actions.supervises(staff):
        await staff_actions.refuse(flow, session, staff, "supervised", None, "supervisors only", now)
        return Outbound(text("staff_forbidden_list", loc))
    await staff_actions.listed(flow, session, staff, "supervised", now)
    rows = await escalation.under_supervision(flow, session, staff, now)
    if not rows:
        return Outbound(text("staff_supervised_empty", loc))
    lines = [text("staff_supervised_title", loc, count=len(rows))]
    for row in rows:
        name = flow.directory.name(row.department_code)
        lines.append(
            text(
                "staff_supervised_line",
                loc,
                number=row.number,
                rung=text(f"rung_{row.rung.value}", loc),
                department=name.get(loc) if name else (row.department_code or "-"),
                status=text(f"status_{row.status}", loc),
                due=flow.due(row.deadline, loc),
                overdue=text("staff_overdue_mark", loc) if row.overdue else "",
            )
        )
    return Outbound("\n".join(lines))
