"""What the citizen is shown: the confirmation, rating and withdrawal buttons, and the rendered
summary, ticket list, ticket detail and filing receipt. Pure rendering; no decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.base import Outbound
from dialogs.formatting import day, moment
from dialogs.forms import Context, Option, Settings, options_to_choices
from dialogs.ports import FiledTicket, TicketSummary
from dialogs.state import IntakeDraft
from dialogs.taxonomy import Bilingual, Taxonomy
from dialogs.texts import both, text
from dialogs.words import words

SUBMIT = Option("confirm:submit", Bilingual(*both("btn_submit")), words().confirm_submit)
EDIT_OPTION = Option("confirm:edit", Bilingual(*both("btn_edit")), words().confirm_edit)
CANCEL = Option("confirm:cancel", Bilingual(*both("btn_cancel")))
CONFIRM_OPTIONS = (SUBMIT, EDIT_OPTION, CANCEL)
# 公开 is a toggle on the summary, not a question of its own: a citizen who does not care taps
# 提交 as before and nothing is published (the default is no). It comes last, so the numbers of
# 提交 / 修改 / 取消 on text-only channels stay 1 / 2 / 3.
PUBLISH_YES = Option("confirm:publish", Bilingual(*both("btn_publish_yes")), words().publish_yes)
PUBLISH_NO = Option("confirm:private", Bilingual(*both("btn_publish_no")), words().publish_no)


def confirm_options(draft: IntakeDraft) -> tuple[Option, ...]:
    """The summary's buttons: 提交 / 修改 / 取消 and the 公开 toggle showing what a tap changes to."""
    return (*CONFIRM_OPTIONS, PUBLISH_NO if draft.publish else PUBLISH_YES)


RATING_OPTIONS = tuple(Option(str(n), Bilingual(*both(f"rate_{n}"))) for n in (1, 2, 3))
# 撤回 cannot be undone, so it is asked first; the buttons carry the number ("withdraw:yes:WZ…"),
# the typed answers (a label, 1 / 2, 是 / 否) are read against the number kept in the state.
WITHDRAW_YES = Option("withdraw:yes", Bilingual(*both("btn_withdraw_yes")), words().withdraw_yes)
WITHDRAW_NO = Option("withdraw:no", Bilingual(*both("btn_withdraw_no")), words().withdraw_no)
WITHDRAW_OPTIONS = (WITHDRAW_YES, WITHDRAW_NO)


class Views:
    def __init__(self, *, taxonomy: Taxonomy, settings: Settings) -> None:
        self._taxonomy = taxonomy
        self._settings = settings

    def my(self, items: Sequence[TicketSummary], total: int, loc: str) -> Outbound:
        if not items:
            return Outbound(text("my_none", loc))
        lines = [text("my_title", loc, total=total)]
        for item in items:
            lines.append(
                text(
                    "my_line",
                    loc,
                    number=item.number,
                    status=self.status(item.status, loc),
                    department=self.department(item, loc),
                    due=self.day(item.answer_due, loc),
                )
            )
        if total > len(items):
            lines.append(text("my_more", loc, shown=len(items)))
        return Outbound("\n".join(lines))

    def ticket(self, found: TicketSummary, loc: str) -> Outbound:
        kind = self._taxonomy.type_by_code(found.type_code)
        topic = self._taxonomy.topic_by_code(found.topic_code)
        return Outbound(
            text(
                "ticket_line_detail",
                loc,
                number=found.number,
                status=self.status(found.status, loc),
                department=self.department(found, loc),
                type=kind.name.get(loc) if kind else found.type_code,
                topic=topic.name.get(loc) if topic else found.topic_code,
                due=self.day(found.answer_due, loc),
            ),
            ticket_number=found.number,
        )

    def summary(self, ctx: Context, draft: IntakeDraft) -> Outbound:
        loc = ctx.locale
        guess = text("guessed", loc)
        kind = self._taxonomy.type_by_code(draft.type_code)
        topic = self._taxonomy.topic_by_code(draft.topic_code)
        place = draft.place.describe() if draft.place else text("not_given", loc)
        details = draft.details or ""
        preview = details if len(details) <= 300 else details[:300] + "…"
        lines = [
            text("summary_title", loc),
            text(
                "summary_type",
                loc,
                value=(kind.name.get(loc) if kind else "-") + (guess if "type" in draft.guessed else ""),
            ),
            text(
                "summary_topic",
                loc,
                value=(topic.name.get(loc) if topic else "-") + (guess if "topic" in draft.guessed else ""),
            ),
            text("summary_location", loc, value=place + (guess if "location" in draft.guessed else "")),
            text("summary_details", loc, value=preview),
        ]
        if draft.media:
            lines.append(text("summary_photos", loc, count=len(draft.media)))
        lines.append(text("summary_phone", loc, value=draft.phone) if draft.phone else text("summary_phone_none", loc))
        lines.append(text("summary_publish_yes" if draft.publish else "summary_publish_no", loc))
        lines += ["", text("summary_hint", loc)]
        return Outbound("\n".join(lines), choices=options_to_choices(confirm_options(draft), loc))

    def filed(self, filed: FiledTicket, loc: str) -> Outbound:
        key = "filed" if filed.new else "filed_already"
        department = filed.department.get(loc) if filed.department else text("department_pending", loc)
        return Outbound(
            text(
                key,
                loc,
                number=filed.number,
                department=department,
                respond_due=self.moment(filed.respond_due, loc),
                answer_due=self.day(filed.answer_due, loc),
                days=filed.answer_working_days,
            ),
            ticket_number=filed.number,
        )

    def status(self, status: str, loc: str) -> str:
        try:
            return text(f"status_{status}", loc)
        except KeyError:
            return status

    def department(self, item: TicketSummary, loc: str) -> str:
        return item.department.get(loc) if item.department else text("department_pending", loc)

    def moment(self, when: datetime, loc: str) -> str:
        return moment(when, loc, self._settings.timezone)

    def day(self, when: datetime, loc: str) -> str:
        return day(when, loc, self._settings.timezone)
