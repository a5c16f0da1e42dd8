"""Every word the console shows, in Chinese (the default) and English.

Statuses and action names come from ``dialogs.texts`` (the chat says them the same way); the
rest is the console's own. A missing key fails loudly in tests (``KeyError``), never shows a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dialogs.texts import keys as chat_keys
from dialogs.texts import text as chat_text

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"

_TEXTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "app_name": ("问政工作台", "Wenzheng console"),
        "nav_desk": ("工作台", "Desk"),
        "nav_scorecard": ("统计考核", "Scorecard"),
        "nav_pushes": ("推送异常", "Failed pushes"),
        "nav_supervision": ("督办", "Supervision"),
        "nav_hot": ("热点", "Hot topics"),
        "switch_language": ("English", "中文"),
        "sign_out": ("退出", "Sign out"),
        "role_handler": ("承办人", "Handler"),
        "role_supervisor": ("主管", "Supervisor"),
        "role_admin": ("管理员", "Administrator"),
        # sign-in
        "login_title": ("登录问政工作台", "Sign in to the Wenzheng console"),
        "login_token": ("登录口令", "Login token"),
        "login_hint": (
            "口令由管理员用 wenzheng staff token 生成。",
            "An administrator makes your token with `wenzheng staff token`.",
        ),
        "login_submit": ("登录", "Sign in"),
        "login_bad_token": (
            "登录口令无效、已过期或已被撤销，请向管理员索取新口令。",
            "That login token is not valid, has expired or has been revoked. Ask an administrator for a new one.",
        ),
        "login_throttled": (
            "登录尝试次数过多，请 {minutes} 分钟后再试。",
            "Too many attempts. Try again in {minutes} min.",
        ),
        "login_expired_form": ("页面已过期，请重新登录。", "The page expired. Please sign in again."),
        "signed_out": ("您已退出。", "You are signed out."),
        # refusals
        "csrf_refused": (
            "请求缺少有效的安全校验，已拒绝。请刷新页面后重试。",
            "The request lacked a valid security check and was refused. Reload the page and try again.",
        ),
        "forbidden_ticket": (
            "您无权查看工单 {number}（不属于本部门）。",
            "You may not open {number}: another department's.",
        ),
        "forbidden_page": ("此页面仅限主管和管理员。", "This page is for supervisors and administrators."),
        "not_found": ("没有找到工单 {number}。", "No ticket {number}."),
        "unavailable": ("系统暂时繁忙，请稍后重试。", "The service is busy. Please try again shortly."),
        "back_to_desk": ("返回工作台", "Back to the desk"),
        # desk
        "desk_title": ("待办工单", "Tickets"),
        "filter_scope": ("范围", "Scope"),
        "filter_mine": ("我的", "Mine"),
        "filter_unassigned": ("未分配", "Unassigned"),
        "filter_department": ("本部门", "My department"),
        "filter_all_departments": ("全部部门", "All departments"),
        "filter_status": ("状态", "Status"),
        "filter_open": ("未办结", "Open"),
        "filter_any_status": ("全部状态", "Any status"),
        "filter_overdue": ("已超期", "Overdue"),
        "filter_due_soon": ("4小时内到期", "Due within 4 h"),
        "filter_channel": ("渠道", "Channel"),
        "filter_topic": ("主题", "Topic"),
        "filter_district": ("区县", "District"),
        "filter_from": ("起始日期", "From"),
        "filter_to": ("截止日期", "To"),
        "filter_any": ("全部", "Any"),
        "filter_search": ("搜索：编号、关键词或电话（按 / ）", "Search: number, words or phone (press /)"),
        "filter_apply": ("筛选", "Filter"),
        "filter_reset": ("清除筛选", "Clear"),
        "filter_order": ("排序", "Order"),
        "order_due": ("按到期时间", "By deadline"),
        "order_newest": ("最新在前", "Newest first"),
        "views_title": ("保存的视图", "Saved views"),
        "views_save": ("保存当前筛选", "Save this filter"),
        "views_name": ("视图名称", "View name"),
        "views_delete": ("删除", "Delete"),
        "views_none": ("还没有保存的视图。", "No saved views yet."),
        "col_number": ("编号", "Number"),
        "col_status": ("状态", "Status"),
        "col_topic": ("主题", "Topic"),
        "col_district": ("区县", "District"),
        "col_department": ("部门", "Department"),
        "col_handler": ("承办人", "Handler"),
        "col_summary": ("内容", "Details"),
        "col_channel": ("渠道", "Channel"),
        "col_created": ("提交时间", "Filed"),
        "col_respond_due": ("签收时限", "Respond by"),
        "col_answer_due": ("办结时限", "Answer by"),
        "queue_empty": ("没有符合条件的工单。", "No tickets match."),
        "queue_more": ("下一页", "Next page"),
        "queue_prev": ("上一页", "Previous page"),
        "queue_updated": ("更新于 {time}", "Updated {time}"),
        "nobody": ("未分配", "Unassigned"),
        "bulk_selected": ("已选 {count} 件", "{count} selected"),
        "bulk_claim": ("批量签收", "Claim selected"),
        "bulk_assign": ("分派给所选同事", "Assign to the colleague"),
        "bulk_done": ("{done} 件已处理，{refused} 件被拒绝。", "{done} done, {refused} refused."),
        "left": ("剩 {span}", "{span} left"),
        "overdue_by": ("超期 {span}", "{span} overdue"),
        "met": ("已完成", "Met"),
        "span_days": ("{days}天{hours}小时", "{days}d {hours}h"),
        "span_hours": ("{hours}小时{minutes}分", "{hours}h {minutes}m"),
        "span_minutes": ("{minutes}分钟", "{minutes} min"),
        # shortcuts
        "help_title": ("快捷键", "Keyboard shortcuts"),
        "key_next": ("下一件", "Next ticket"),
        "key_prev": ("上一件", "Previous ticket"),
        "key_open": ("打开", "Open"),
        "key_search": ("搜索", "Search"),
        "key_claim": ("签收选中的工单", "Claim the selected ticket"),
        "key_help": ("显示或关闭本帮助", "Show or hide this help"),
        "close": ("关闭", "Close"),
        # ticket page
        "ticket_title": ("工单 {number}", "Ticket {number}"),
        "field_type": ("类型", "Type"),
        "field_topic": ("主题", "Topic"),
        "field_department": ("承办部门", "Department"),
        "field_handler": ("承办人", "Handler"),
        "field_channel": ("渠道", "Channel"),
        "field_phone": ("联系电话", "Phone"),
        "field_place": ("地点", "Place"),
        "field_filed": ("提交时间", "Filed"),
        "field_status": ("状态", "Status"),
        "field_duplicate_of": ("重复于", "Duplicate of"),
        "map_link": ("在地图上查看（{lat}, {lon}）", "Show on a map ({lat}, {lon})"),
        "no_place": ("未提供地点", "No place given"),
        "thread": ("办理经过", "History"),
        "photos": ("照片", "Photos"),
        "photo_on_platform": (
            "照片保存在{channel}平台，未下载到本系统。",
            "The photo stays on {channel}; it is not stored here.",
        ),
        "citizen": ("市民", "Citizen"),
        "system": ("系统", "System"),
        "someone": ("工作人员 #{id}", "Staff #{id}"),
        "ev_submitted": ("提交了问政", "filed the inquiry"),
        "ev_route": ("分派给 {to_department}", "routed it to {to_department}"),
        "ev_claim": ("签收", "claimed it"),
        "ev_note": ("内部备注：{note}", "internal note: {note}"),
        "ev_reply": ("答复市民：{answer}", "answered the citizen: {answer}"),
        "ev_transfer": ("转办给 {to_department}，原因：{reason}", "transferred it to {to_department}: {reason}"),
        "ev_extend": ("延期至 {due}，原因：{reason}", "extended it to {due}: {reason}"),
        "ev_reject": ("不予受理，原因：{reason}", "rejected it: {reason}"),
        "ev_close": ("办结", "closed it"),
        "ev_duplicate": ("标记为 {original} 的重复件", "marked it a duplicate of {original}"),
        "ev_withdraw": ("撤回了问政", "withdrew the inquiry"),
        "ev_rate_satisfied": ("评价：满意", "rated it: satisfied"),
        "ev_rate_unsatisfied": ("评价：不满意（退回重办）", "rated it: unsatisfied (sent back for rework)"),
        "ev_expire_rating": ("未评价，自动办结", "did not rate; closed automatically"),
        "ev_supplement": ("补充：{text}", "added: {text}"),
        "ev_retopic": ("改类为 {topic}", "changed the topic to {topic}"),
        "ev_escalated": ("督办（{why}）", "escalated ({why})"),
        "ev_notify_skipped": ("无法通知市民（{why}）", "could not notify the citizen ({why})"),
        "ev_assign": ("分派给 {assignee}", "assigned it to {assignee}"),
        "ev_linked": ("关联到 {original}（成为重复件）", "linked it to {original} (now a duplicate)"),
        "ev_linked_from": ("{ticket} 关联到本件", "{ticket} was linked to it"),
        "ev_unlinked": ("取消与 {original} 的关联", "unlinked it from {original}"),
        "ev_repeat_request": (
            "重复诉求：该市民此前反映过 {earlier}",
            "repeat request: this citizen raised it before in {earlier}",
        ),
        "ev_followed": ("另一位市民关注了本件", "another citizen follows it"),
        "ev_supervision_remind": ("提醒承办人（{why}）", "reminded the handler ({why})"),
        "ev_supervision_urge": ("市民催办", "the citizen chased it"),
        "ev_supervision_cleared": ("解除督办，原因：{reason}", "cleared the supervision: {reason}"),
        "ev_other": ("{kind}", "{kind}"),
        "why_overdue_respond": ("超过签收时限", "not claimed in time"),
        "why_overdue_answer": ("超过办结时限", "not answered in time"),
        "why_unsatisfied_twice": ("市民两次不满意", "the citizen was unsatisfied twice"),
        "why_unreachable": ("市民已无法联系", "the citizen cannot be reached"),
        "why_remind_respond": ("签收时限将到", "the respond deadline is near"),
        "why_remind_answer": ("办结时限将到", "the answer deadline is near"),
        "why_still_unanswered": ("黄牌督办后仍未答复", "still unanswered after the yellow card"),
        "why_urge": ("市民超期催办", "the citizen chased it after the deadline"),
        "act_claim": ("签收", "Claim"),
        "act_reply": ("答复市民", "Reply to the citizen"),
        "act_reply_send": ("发送答复", "Send the reply"),
        "act_template": ("答复模板", "Reply template"),
        "act_template_none": ("（不用模板）", "(no template)"),
        "act_note": ("内部备注", "Internal note"),
        "act_note_send": ("添加备注", "Add the note"),
        "act_assign": ("分派给同事", "Assign to a colleague"),
        "act_assign_send": ("分派", "Assign"),
        "act_transfer": ("转办", "Transfer"),
        "act_transfer_send": ("转办", "Transfer"),
        "act_reason": ("原因（必填）", "Reason (required)"),
        "act_extend": ("延期（主管）", "Extend (supervisors)"),
        "act_extend_send": ("延期", "Extend"),
        "act_new_date": ("新的办结日期", "New answer date"),
        "act_reject": ("不予受理", "Reject"),
        "act_close": ("办结", "Close"),
        "act_duplicate": ("标记为重复件", "Link as a duplicate"),
        "act_duplicate_of": ("原工单（未办结）", "Original ticket (open)"),
        "act_duplicate_send": ("标记重复", "Mark duplicate"),
        "act_duplicate_search": ("搜索未办结的工单：编号或关键词", "Search open tickets: number or words"),
        "act_unsupervise": ("解除督办（主管）", "Clear the supervision (supervisors)"),
        "field_supervision": ("督办", "Supervision"),
        "card_1": ("黄牌", "Yellow card"),
        "card_2": ("红牌", "Red card"),
        # duplicates on the ticket page
        "dup_title": ("疑似重复", "Possible duplicates"),
        "dup_none": ("没有发现疑似重复的问政。", "No possible duplicates found."),
        "dup_link_hint": (
            "关联后本件成为重复件，不再计入考核，市民改为接收原工单的进展。",
            "Linking makes this ticket a duplicate, left out of the figures; its citizen follows the original.",
        ),
        "dup_score": ("相似度 {score}", "similarity {score}"),
        "dup_link": ("关联", "Link"),
        "dup_not_linkable": ("（原工单已答复或办结，不能关联）", "(answered or closed: cannot be linked to)"),
        "dup_unlink": ("取消关联", "Unlink"),
        "linked_to": ("本件已关联到原工单", "This ticket is linked to the original"),
        "linked_from": ("关联到本件的工单", "Tickets linked to this one"),
        "act_retopic": ("更正主题", "Correct the topic"),
        "act_retopic_send": ("更正", "Correct"),
        "act_department": ("部门", "Department"),
        "act_colleague": ("同事", "Colleague"),
        "act_pick": ("请选择", "Choose"),
        "done": ("已完成：{what}", "Done: {what}"),
        "refused": ("未执行：{why}", "Not done: {why}"),
        "reason_required": ("请填写原因。", "Please give a reason."),
        "text_required": ("请填写内容。", "Please write something."),
        "pick_required": ("请先选择。", "Please choose first."),
        "assign_other_department": (
            "只能分配给本部门的同事。",
            "Assign only to a colleague of the ticket's department.",
        ),
        # scorecard
        "score_title": ("统计考核", "Scorecard"),
        "score_by": ("分组", "Group by"),
        "by_department": ("部门", "Department"),
        "by_handler": ("承办人", "Handler"),
        "by_topic": ("主题", "Topic"),
        "by_district": ("区县", "District"),
        "score_month": ("月份", "Month"),
        "score_range": ("或自定义日期", "or a range"),
        "score_show": ("查看", "Show"),
        "score_csv": ("下载 CSV", "Download CSV"),
        "score_xlsx": ("下载 Excel", "Download Excel"),
        "score_tickets_csv": ("工单明细 CSV", "Tickets CSV"),
        "score_tickets_xlsx": ("工单明细 Excel", "Tickets Excel"),
        "score_empty": ("这段时间没有到期的工单。", "No tickets fell due in this period."),
        "score_total": ("合计", "Total"),
        "score_as_of": (
            "统计截至 {time}（每分钟自动更新，数字在该时刻准确；此后的办理在下次更新时计入）",
            "As of {time} (updated every minute; exact as of then: later work counts at the next update)",
        ),
        "score_refresh": ("立即更新", "Refresh now"),
        "score_chart": ("按时办结率", "Answered on time"),
        "score_definitions": ("指标口径", "Definitions"),
        "unknown_group": ("（未知）", "(unknown)"),
        # 督办
        "sup_title": ("督办中的问政", "Under supervision (督办)"),
        "sup_count": ("{count} 件", "{count}"),
        "sup_intro": (
            "黄牌、红牌督办中的问政，红牌在前（与聊天命令“督办列表”相同）。解除督办须说明原因，记入审计日志；"
            "解除后该件在统计中仍计为督办。",
            "Tickets on a yellow or red card, red first (the chat's 督办列表). Clearing one needs a reason and "
            "is audited; a cleared ticket still counts as 督办 in the scorecard.",
        ),
        "sup_empty": ("目前没有督办中的问政。", "Nothing is under supervision."),
        "col_rung": ("督办", "Card"),
        "col_since": ("督办起始", "Since"),
        "col_why": ("督办经过", "Why"),
        "col_deadline": ("期限", "Deadline"),
        "sup_overdue": ("已超期", "overdue"),
        "sup_reason": ("解除原因（必填）", "Reason (required)"),
        "sup_clear": ("解除督办", "Clear"),
        "sup_reason_required": ("请填写解除督办的原因。", "Please give a reason for clearing the supervision."),
        "sup_no_history": ("（早于督办记录）", "(before steps were kept)"),
        "sup_not_yours": ("其他部门的问政，由该部门主管解除。", "Another department's: its supervisors clear it."),
        # hot topics
        "hot_title": ("热点问题", "Hot topics"),
        "hot_day": ("{day} 的分析结果", "the run of {day}"),
        "hot_intro": (
            "近 7 天由多位市民反映、且明显多于此前 4 周的问题，每天定时分析一次。"
            "增长倍数 = 近期每天反映的市民数 ÷ 此前每天的市民数。",
            "What many citizens raised in the last 7 days, clearly more than in the 4 weeks before; run once a "
            "day. Growth = citizens per day recently ÷ citizens per day before.",
        ),
        "hot_empty": ("今日暂无热点", "No hot topics today"),
        "hot_never_run": ("热点分析尚未运行（每天定时运行一次）。", "No hot-topic run yet (it runs once a day)."),
        "hot_city_wide": ("全市", "City-wide"),
        "hot_district": ("仅 {district} 上升", "Rising in {district} only"),
        "hot_count": ("{count} 件", "{count} tickets"),
        "hot_citizens": ("{count} 位市民", "{count} citizens"),
        "hot_growth": ("增长 {growth} 倍（此前 {baseline} 件）", "growth ×{growth} ({baseline} before)"),
        "hot_districts": ("区县", "Districts"),
        "hot_more": ("另 {count} 件", "{count} more"),
        "hot_subscribe": ("订阅热点日报", "Subscribe to the daily digest"),
        "hot_unsubscribe": ("退订", "Unsubscribe"),
        # failed pushes
        "pushes_title": ("发送失败或等待中的推送", "Dead and held pushes"),
        "pushes_none": ("没有发送失败或等待中的推送。", "No dead or held pushes."),
        "push_status_dead": ("发送失败", "dead"),
        "push_status_held": ("等待市民再次留言", "held until the citizen writes"),
        "col_when": ("时间", "When"),
        "col_error": ("原因", "Why"),
        "col_attempts": ("尝试次数", "Attempts"),
    }
)


def t(key: str, locale: str, **values: object) -> str:
    """The console's own words, else the chat's (statuses, actions); English for ``en``."""
    pair = _TEXTS.get(key)
    if pair is None:
        if key in chat_keys():
            return chat_text(key, locale, **values)
        raise KeyError(key)
    template = pair[1] if locale == "en" else pair[0]
    return template.format(**values) if values else template


def known(key: str) -> bool:
    return key in _TEXTS or key in chat_keys()


def pick_locale(asked: str | None, own: str | None) -> str:
    for candidate in (asked, own):
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE
