"""Exports of the November month: one row per ticket and the scorecard, as CSV and as .xlsx that
Excel (here: openpyxl reading it back) opens."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from storage.models import Staff
from tests.tickets.console.month import END, START, TZ, UNTIL, Month, november
from tickets.console.export import Names, scorecard_csv, scorecard_xlsx, tickets_csv, tickets_xlsx
from tickets.console.queue import QueueFilter
from tickets.console.scorecard import GroupBy, scorecard

__all__ = ["november"]


def _names(month: Month) -> Names:
    return Names(taxonomy=month.services.workflow.taxonomy, directory=month.services.workflow.directory)


async def test_tickets_as_csv_and_xlsx(november: Month) -> None:
    n = november.numbers
    async with november.services.sessions() as session:
        admin = (await session.execute(select(Staff).where(Staff.name == "赵六"))).scalar_one()
        everything = QueueFilter(statuses=())
        data = await tickets_csv(session, viewer=admin, filt=everything, now=UNTIL, tz=TZ, names=_names(november))
        book = await tickets_xlsx(
            session, viewer=admin, filt=everything, now=UNTIL, tz=TZ, names=_names(november), locale="en"
        )
        wang = (await session.execute(select(Staff).where(Staff.name == "王五"))).scalar_one()
        theirs = await tickets_csv(session, viewer=wang, filt=everything, now=UNTIL, tz=TZ, names=_names(november))
    assert data.startswith("\ufeff".encode())  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "渠道", "类型"] and len(rows) == 1 + 15
    t4 = next(r for r in rows if r[0] == n["T4"])
    assert t4[2:7] == ["投诉", "城市管理", "市南区", "城市管理局", "张三"]
    assert (t4[7], t4[8], t4[9], t4[11]) == (
        "2026-11-03 09:00",
        "2026-11-03 09:30",
        "2026-11-04 09:00",
        "2026-11-03 17:00",
    )
    assert (t4[13], t4[14]) == ("已办结", "基本满意")  # the latest of its three ratings
    assert [r[0] for r in csv.reader(io.StringIO(theirs.decode("utf-8-sig")))][1:] == [n["T5"]]

    sheet = load_workbook(io.BytesIO(book), read_only=True).worksheets[0]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == "Number" and len(cells) == 16
    assert next(r for r in cells if r[0] == n["T5"])[1] == "wechat"


async def test_the_scorecard_as_csv_and_xlsx(november: Month) -> None:
    async with november.services.sessions() as session:
        card = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT)
    rows = list(csv.reader(io.StringIO(scorecard_csv(card, names=_names(november)).decode("utf-8-sig"))))
    header, total = rows[0], rows[-1]
    assert [r[0] for r in rows[1:]] == ["交通运输局", "城市管理局", "合计"]
    at = header.index("满意率")
    assert total[at : at + 3] == ["87.5%", "7", "8"]
    assert total[-1] == "48.0"
    sheet = load_workbook(io.BytesIO(scorecard_xlsx(card, names=_names(november), locale="en")), read_only=True)
    cells = [list(r) for r in sheet.worksheets[0].iter_rows(values_only=True)]
    assert cells[-1][0] == "Total" and "Satisfied" in cells[0]
