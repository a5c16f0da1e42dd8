"""Every citizen-facing sentence, Chinese first and English second.

Kept in one catalogue so a reviewer can read the whole voice of the service at once, and so a
missing translation is a test failure rather than a blank message on a phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dialogs.texts_oversight import CATALOGUE as OVERSIGHT

LOCALES = ("zh", "en")

_CATALOGUE: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        **OVERSIGHT,  # 督办, hot topics, duplicates (dialogs/texts_oversight.py)
        "welcome": (
            "您好，这里是政务服务问政平台。请直接描述您要反映的问题（发生在哪里、什么情况），"
            "我们会登记并转交责任部门办理。",
            "Hello, this is the government inquiry service. Describe your issue (where and what "
            "happened) and we will file it with the responsible department.",
        ),
        "ask_type": ("请选择问政类型：", "What kind of inquiry is it?"),
        "ask_topic": ("请选择问题所属领域：", "Which area does it concern?"),
        "ask_topic_likely": (
            "我们不太确定您的问题属于哪个领域，最可能是下面几项；都不对请点“其他”。",
            "We are not sure which area this concerns; these are the likeliest. If none fits, tap Other.",
        ),
        "ask_type_likely": (
            "您是要投诉、反映、咨询、求助还是提建议？最可能是下面几项；都不对请点“其他”。",
            "Is this a complaint, a report, a question, a request for help or a suggestion? "
            "These are the likeliest; if none fits, tap Other.",
        ),
        "btn_more_choices": ("其他（全部选项）", "Other (show all)"),
        "all_choices_follow": ("好的，以下是全部选项：", "Here are all the options:"),
        "ask_location": (
            "问题发生在哪里？请发送位置，或输入详细地址（如：市南区香港中路8号）。",
            "Where is it? Share your location or type the address (e.g. 8 Xianggang Middle Rd, Shinan District).",
        ),
        "ask_location_optional": (
            "如与具体地点有关，请发送位置或输入地址；无关请点“跳过”。",
            "If a place is involved, share your location or type the address; otherwise tap Skip.",
        ),
        "ask_details": (
            "请具体描述问题：发生了什么、持续多久、您的诉求。可以附上照片。",
            "Please describe the issue: what happened, for how long, and what you ask for. You may add photos.",
        ),
        "details_too_short": (
            "描述有点短，请至少写{min}个字，说清楚发生了什么。",
            "That is a little short: please write at least {min} characters about what happened.",
        ),
        "details_too_long": (
            "您的消息有{length}字，超过了{max}字的上限。原消息已保存，请精简后重新发送，或分几条发送。",
            "Your message has {length} characters, more than the {max} allowed. It has been saved; "
            "please send a shorter version, or split it into several messages.",
        ),
        "details_appended": ("已补充到问题描述。", "Added to the description."),
        "photo_received": ("照片已收到（共{count}张）。", "Photo received ({count} in total)."),
        "photo_limit": (
            "最多可附{max}张照片，这张未添加。",
            "At most {max} photos can be attached; this one was not added.",
        ),
        "phone_saved": ("联系电话已记录：{phone}", "Phone number saved: {phone}"),
        "location_saved": ("地点已记录：{place}", "Location saved: {place}"),
        "location_unclear": (
            "没能识别这个地址，请补充区县和街道（如：市南区香港中路8号），或直接发送位置。",
            "We could not place that address. Please add the district and street, or share your location.",
        ),
        "location_outside": (
            "地点：{place}\n这个地址不在本市服务范围，仍要提交吗？",
            "Place: {place}\nThis address is outside the area this service covers. Submit it anyway?",
        ),
        "btn_keep_place": ("仍要提交", "Submit anyway"),
        "btn_change_place": ("修改地点", "Change place"),
        "choose_from_list": ("请从下面的选项中选择：", "Please pick one of the options below:"),
        "summary_title": ("请确认您的问政内容：", "Please confirm your inquiry:"),
        "summary_type": ("类型：{value}", "Type: {value}"),
        "summary_topic": ("领域：{value}", "Area: {value}"),
        "summary_location": ("地点：{value}", "Place: {value}"),
        "summary_details": ("内容：{value}", "Details: {value}"),
        "summary_photos": ("照片：{count}张", "Photos: {count}"),
        "summary_phone": ("联系电话：{value}", "Phone: {value}"),
        "summary_phone_none": (
            "联系电话：未填写（可直接发送手机号补充，便于工作人员联系您）",
            "Phone: none (send your number if staff may call you)",
        ),
        "summary_hint": (
            "确认无误请点“提交”；需要改动请点“修改”。也可以继续发送照片或补充说明。",
            "Tap Submit if this is right, or Edit to change something. You can still send photos or add details.",
        ),
        "not_given": ("未填写", "not given"),
        "guessed": ("（系统识别，可修改）", " (our guess, you can change it)"),
        "summary_publish_no": (
            "公开：否（点“同意公开”可隐去个人信息后公开问政及答复）",
            "Publish: no (tap Publish to let us publish this inquiry and its answer without your name or contacts)",
        ),
        "summary_publish_yes": (
            "公开：是（答复后隐去姓名、电话、门牌号等公开；可随时发“不公开 编号”撤回）",
            'Publish: yes (published without your name, phone or house number once answered; send "unpublish '
            '<number>" at any time to withdraw)',
        ),
        "btn_publish_yes": ("同意公开", "Publish"),
        "btn_publish_no": ("不公开", "Don't publish"),
        "publish_usage": (
            "请在“公开”或“不公开”后写上问政编号，例如：不公开 WZ20261206-0001",
            'Write the inquiry number after "publish" or "unpublish", e.g. unpublish WZ20261206-0001',
        ),
        "published_yes": (
            "已同意公开问政{number}：答复后将隐去姓名和联系方式，在“办理结果公开”中展示。发送“不公开 {number}”可撤回。",
            'Inquiry {number} may now be published once answered, without your name or contacts. Send "unpublish '
            '{number}" to withdraw.',
        ),
        "published_no": (
            "问政{number}不公开，已从公开结果中撤下（如已展示）。",
            "Inquiry {number} will not be published and is removed from the public results if it was shown.",
        ),
        "open311_service_description": ("{topic}类问政（投诉、反映、咨询、求助、建议）", "Inquiries about {topic}"),
        "open311_publish_description": (
            "是否同意隐去姓名和联系方式后公开本问政及答复（默认不公开）",
            "May the inquiry and its answer be published without name and contacts (default: no)",
        ),
        "open311_publish_datatype": ("true 同意公开，false 不公开", "true to publish, false not to"),
        "open311_notice": (
            "已受理，由{department}办理，答复期限{due}。",
            "Accepted: {department} handles it, answer due {due}.",
        ),
        "btn_submit": ("提交", "Submit"),
        "btn_edit": ("修改", "Edit"),
        "btn_cancel": ("取消", "Cancel"),
        "btn_skip": ("跳过", "Skip"),
        "ask_edit": ("要修改哪一项？", "What would you like to change?"),
        "field_type": ("类型", "Type"),
        "field_topic": ("领域", "Area"),
        "field_location": ("地点", "Place"),
        "field_details": ("内容", "Details"),
        "field_phone": ("联系电话", "Phone"),
        "ask_phone": (
            "请发送您的手机号或固定电话（如 0532-12345678）；不留电话请点“跳过”。",
            "Send your mobile or landline number (e.g. 0532-12345678), or tap Skip.",
        ),
        "phone_invalid": (
            "没能识别这个号码，请重新输入，或点“跳过”。",
            "That does not look like a phone number. Try again or tap Skip.",
        ),
        "filed": (
            "提交成功！您的问政编号：{number}\n已受理，由【{department}】办理。我们将在{respond_due}前响应，"
            "{answer_due}前答复（{days}个工作日）。\n发送“我的”可随时查看办理进度。",
            "Filed! Your inquiry number is {number}.\nIt has been accepted and assigned to {department}. We will "
            'respond by {respond_due} and answer by {answer_due} ({days} working days).\nSend "my" at any time to '
            "see its progress.",
        ),
        "filed_already": (
            "这份问政已经提交过了，编号：{number}。",
            "This inquiry was already submitted as {number}.",
        ),
        "cancelled": (
            "已取消本次填写。需要时直接发送问题即可重新开始。",
            "Cancelled. Send your issue whenever you want to start again.",
        ),
        "nothing_to_cancel": ("当前没有正在填写的问政。", "There is no inquiry in progress."),
        "nothing_to_go_back": ("已经是第一步了。", "This is already the first step."),
        "expired": (
            "您上次填写的问政超过{minutes}分钟未完成，已重置。",
            "Your unfinished inquiry was reset after {minutes} minutes without activity.",
        ),
        "help": (
            "直接描述问题即可开始问政。随时可以发送：\n"
            "“我要问政”开始新的问政；“我的”查看办理进度；“返回”回到上一步；“取消”放弃本次填写；"
            "“English”切换英文；“帮助”显示本说明。也可以直接发送问政编号查询；"
            "“补充 编号 内容”向办理人员补充情况；“撤回 编号”撤回问政；“公开 编号”/“不公开 编号”同意或撤回公开。",
            "Describe your issue to start. At any time you can send:\n"
            '"new" to start a new inquiry, "my" to see your inquiries, "back" for the previous '
            'step, "cancel" to stop, "中文" for Chinese, "help" for this text. You can also send '
            'an inquiry number to look it up, "add <number> <text>" to tell the staff more, and '
            '"withdraw <number>" to withdraw it, "publish <number>" / "unpublish <number>" to allow or stop '
            "publishing it.",
        ),
        "unknown_command": ("暂不支持“{command}”这个指令。", 'The command "{command}" is not supported.'),
        "language_set": ("已切换为中文。", "Switched to English."),
        "my_none": (
            "您还没有提交过问政。直接描述问题即可开始。",
            "You have no inquiries yet. Describe your issue to start one.",
        ),
        "my_title": ("您最近的问政（共{total}件）：", "Your recent inquiries ({total} in total):"),
        "my_line": (
            "{number}｜{status}｜{department}｜答复期限{due}",
            "{number} | {status} | {department} | answer by {due}",
        ),
        "my_more": ("仅显示最近{shown}件。", "Showing the latest {shown}."),
        "ticket_line_detail": (
            "{number}\n状态：{status}\n办理部门：{department}\n类型：{type}｜领域：{topic}\n答复期限：{due}",
            "{number}\nStatus: {status}\nDepartment: {department}\nType: {type} | Area: {topic}\nAnswer by: {due}",
        ),
        "ticket_not_found": (
            "没有找到编号为{number}的问政，请核对编号。",
            "No inquiry numbered {number} was found among yours; please check the number.",
        ),
        "department_pending": ("待分派", "being assigned"),
        "empty_message": (
            "没有收到内容，请输入文字、发送照片或位置。",
            "We received an empty message. Please type, or send a photo or location.",
        ),
        "unsupported": (
            "暂不支持这种消息，请发送文字、照片或位置。",
            "This kind of message is not supported yet. Please send text, a photo or a location.",
        ),
        "voice_unsupported": (
            "暂时无法识别语音，请用文字描述。",
            "We cannot understand voice messages yet; please type your message.",
        ),
        "internal_error": (
            "系统繁忙，您的消息已保存，请稍后再试。",
            "The service is busy. Your message is saved; please try again shortly.",
        ),
        "unreadable_message": (
            "抱歉，这条消息含有无法识别的字符，未能保存，请修改后重新发送。",
            "Sorry, this message contains characters we cannot read and was not saved. Please edit it and send it "
            "again.",
        ),
        # --- pushes to the citizen as the ticket moves -------------------------------------------------
        "push_accepted": (
            "您的问政{number}已受理，由【{department}】办理，将于{answer_due}前答复。",
            "Your inquiry {number} has been accepted and assigned to {department}; you will get an answer by "
            "{answer_due}.",
        ),
        "push_assigned": (
            "【{department}】工作人员已接单，正在办理您的问政{number}。",
            "Staff at {department} have taken up your inquiry {number}.",
        ),
        "push_transferred": (
            "您的问政{number}已转至【{department}】办理。原因：{reason}",
            "Your inquiry {number} was transferred to {department}. Reason: {reason}",
        ),
        "push_extended": (
            "您的问政{number}答复期限延长至{answer_due}。原因：{reason}",
            "The answer to your inquiry {number} is now due by {answer_due}. Reason: {reason}",
        ),
        "push_rejected": (
            "您的问政{number}不予受理。原因：{reason}",
            "Your inquiry {number} cannot be taken up. Reason: {reason}",
        ),
        "push_duplicate": (
            "您的问政{number}与{original}反映的是同一问题，将合并办理，请关注{original}的进展。",
            "Your inquiry {number} concerns the same issue as {original}; follow {original} for progress.",
        ),
        "push_duplicate_other": (
            "您的问政{number}反映的问题已有其他市民反映（问政{original}），将一并办理，本问政不再单独答复；"
            "{original}的办理进展和答复会推送给您，届时请您评价。",
            "The issue of your inquiry {number} was already reported by someone else ({original}) and is"
            " handled there; yours will not be answered separately. {original}'s progress and answer will"
            " reach you here, and you can rate the answer.",
        ),
        "push_unlinked": (
            "您的问政{number}已恢复单独办理，工作人员会尽快处理。",
            "Your inquiry {number} will be handled on its own again; staff will deal with it soon.",
        ),
        "push_answered": (
            "【{department}】答复：{answer}\n（问政编号{number}）",
            "{department} answers: {answer}\n(inquiry {number})",
        ),
        "push_closed": ("您的问政{number}已办结，感谢您的参与！", "Your inquiry {number} is closed. Thank you!"),
        "push_closed_unrated": (
            "您的问政{number}已办结（未评价）。如仍有问题，欢迎再次问政。",
            "Your inquiry {number} was closed without a rating. Write again any time.",
        ),
        "push_reopened": (
            "已收到您的评价，问政{number}已退回【{department}】重新办理。",
            "Thank you. Inquiry {number} has been sent back to {department} for rework.",
        ),
        "push_escalated": (
            "已收到您的评价，问政{number}已提交上级督办。",
            "Thank you. Inquiry {number} has been escalated to the supervisors.",
        ),
        "rating_prompt": (
            "请对问政{number}的答复进行评价：",
            "How satisfied are you with the answer to {number}?",
        ),
        "rate_1": ("满意", "Satisfied"),
        "rate_2": ("基本满意", "Mostly satisfied"),
        "rate_3": ("不满意", "Not satisfied"),
        "rating_ask_reason": (
            "请简单说明不满意的原因，我们将转交办理部门（也可点“跳过”）：",
            "Please tell us briefly why, and we will pass it on (or tap Skip):",
        ),
        "rating_thanks": ("感谢您的评价！", "Thank you for your rating!"),
        "rated_reopened": (
            "已收到您的评价，问政{number}将退回办理部门重新办理。",
            "Thank you. Inquiry {number} goes back to the department for rework.",
        ),
        "rated_escalated": (
            "已收到您的评价，问政{number}已提交上级督办。",
            "Thank you. Inquiry {number} has been escalated to the supervisors.",
        ),
        "supplement_usage": ("请在“补充”后写上要补充的内容。", 'Write what you want to add after "add".'),
        "withdraw_usage": ("请在“撤回”后写上问政编号。", 'Write the inquiry number after "withdraw".'),
        "rating_not_pending": ("问政{number}当前不需要评价。", "Inquiry {number} is not waiting for a rating."),
        "supplement_sent": (
            "已将您的补充说明转交问政{number}的办理人员。",
            "Your additional information was passed to the staff handling {number}.",
        ),
        "supplement_none": (
            "您目前没有正在办理的问政。直接描述问题即可开始新的问政。",
            "You have no open inquiry. Describe your issue to start a new one.",
        ),
        "withdrawn": ("问政{number}已撤回。", "Inquiry {number} has been withdrawn."),
        "withdraw_refused": ("问政{number}当前无法撤回。", "Inquiry {number} cannot be withdrawn now."),
        # --- staff ----------------------------------------------------------------------------------------
        # A new ticket's card heading; rework and 督办 cards have their own (card_reopened, card_escalated).
        "card_new": ("【新问政】{number}", "[New inquiry] {number}"),
        "card": (
            "类型：{type}｜领域：{topic}\n地点：{place}\n内容：{details}\n照片：{photos}张｜联系电话：{phone}"
            "\n响应期限：{respond_due}\n答复期限：{answer_due}",
            "Type: {type} | Area: {topic}\nPlace: {place}\nDetails: {details}\n"
            "Photos: {photos} | Phone: {phone}\nRespond by: {respond_due}\nAnswer by: {answer_due}",
        ),
        "card_transferred": (
            "（由【{from_department}】转来，原因：{reason}）",
            "(transferred from {from_department}: {reason})",
        ),
        "card_reopened": (
            "【退回重办】{number} 市民不满意：{comment}",
            "[Rework] {number}: the citizen is not satisfied: {comment}",
        ),
        "card_escalated": (
            "【督办】{number} 市民第二次不满意：{comment}",
            "[Escalated] {number}: the citizen is not satisfied a second time: {comment}",
        ),
        "card_supplement": ("【市民补充】{number}：{text}", "[Citizen adds] {number}: {text}"),
        "btn_claim": ("接单", "Claim"),
        "btn_show": ("查看", "Show"),
        "staff_help": (
            "可用指令（编号如 WZ20261122-0007）：\n接单 编号｜回复 编号 内容｜备注 编号 内容｜转办 编号 部门代码 原因｜"
            "延期 编号 YYYY-MM-DD 原因（主管）｜不予受理 编号 原因｜办结 编号｜重复 编号 原编号｜查看 编号｜待办｜"
            "投递失败（主管）｜改类 编号 主题｜分派 编号 同事姓名｜督办列表（主管）｜解除督办 编号 原因（主管）｜"
            "热点｜订阅热点｜退订热点（主管）｜关联 编号 原编号｜取消关联 编号｜撤下公开 编号 原因｜恢复公开 编号",
            "Commands (numbers like WZ20261122-0007):\nclaim N | reply N text | note N text | transfer N dept reason | "
            "extend N YYYY-MM-DD reason (supervisors) | reject N reason | close N | duplicate N original | "
            "show N | queue | failed (supervisors) | retopic N topic | supervised (supervisors) | "
            "unsupervise N reason | hot | subscribe | unsubscribe (supervisors) | link N original | unlink N | "
            "hide N reason | unhide N | assign N colleague",
        ),
        "staff_usage": ("指令格式不对：{usage}", "Wrong format: {usage}"),
        "staff_unknown_ticket": ("没有编号为{number}的问政。", "There is no inquiry {number}."),
        "staff_forbidden": (
            "问政{number}不属于您的部门，无权操作（已记录）。",
            "Inquiry {number} belongs to another department; you may not act on it (logged).",
        ),
        "staff_forbidden_list": (
            "只有主管和管理员可以查看（已记录）。",
            "Only supervisors and admins may see this (logged).",
        ),
        "staff_supervisor_only": ("只有主管可以延期。", "Only supervisors may extend a deadline."),
        "staff_illegal": (
            "问政{number}当前状态为“{status}”，不能{action}。",
            "Inquiry {number} is {status}: cannot {action}.",
        ),
        "staff_unknown_department": ("没有部门代码{code}。可用：{codes}", "No department {code}. Known: {codes}"),
        "staff_unknown_topic": ("没有主题{topic}。可用：{topics}", "No topic {topic}. Known: {topics}"),
        "staff_duplicate_not_open": (
            "问政{original}已不在办理中（{status}），只能合并到正在办理的问政。",
            "Inquiry {original} is no longer open ({status}); a duplicate can only be linked to an open one.",
        ),
        "staff_unknown_colleague": (
            "{who}不是问政{number}所属部门的在职工作人员。",
            "{who} is not an active member of the department of inquiry {number}.",
        ),
        "staff_assign_not_yours": (
            "问政{number}由{holder}办理，只有本人或主管可以改派。",
            "Inquiry {number} is held by {holder}; only they or a supervisor may reassign it.",
        ),
        "card_assigned": ("【分派】{number} 由{by}分派给您办理", "[Assigned] {number}: {by} assigned it to you"),
        "staff_same_topic": ("问政{number}的主题已是{topic}。", "Inquiry {number} is already under {topic}."),
        "staff_bad_date": (
            "日期格式应为YYYY-MM-DD，且晚于当前期限。",
            "The date must be YYYY-MM-DD and later than the current due date.",
        ),
        "staff_done": ("已{action}：{number}（当前状态：{status}）", "Done, {action}: {number} (now {status})"),
        "staff_queue_empty": ("本部门没有待办问政。", "Your department has no open inquiries."),
        "staff_queue_title": ("待办问政（按答复期限）：", "Open inquiries by due time:"),
        "staff_queue_line": (
            "{number}｜{status}｜{topic}｜答复期限{due}{overdue}",
            "{number} | {status} | {topic} | due {due}{overdue}",
        ),
        "staff_overdue_mark": ("（已超期）", " (overdue)"),
        "staff_show": (
            "{number}｜{status}｜{department}\n类型：{type}｜领域：{topic}\n地点：{place}\n内容：{details}\n联系电话：{phone}"
            "\n答复期限：{answer_due}\n处理记录：\n{history}",
            "{number} | {status} | {department}\nType: {type} | Area: {topic}\nPlace: {place}\nDetails: {details}\n"
            "Phone: {phone}\nAnswer by: {answer_due}\nHistory:\n{history}",
        ),
        "staff_failed_none": ("没有投递失败的消息。", "No undelivered messages."),
        "staff_failed_title": (
            "投递失败的消息（最近{count}条），请电话或其他方式联系市民：",
            "Undelivered messages (latest {count}); reach the citizen another way:",
        ),
        "staff_failed_line": (
            "{number}｜渠道：{channel}｜{when}｜原因：{error}",
            "{number} | via {channel} | {when} | {error}",
        ),
        "remind_respond": (
            "【提醒】问政{number}将于{due}到达响应期限，请尽快接单。",
            "[Reminder] {number} must be taken up by {due}.",
        ),
        "remind_answer": (
            "【提醒】问政{number}将于{due}到达答复期限。",
            "[Reminder] {number} must be answered by {due}.",
        ),
        "overdue_respond": (
            "【督办】问政{number}已超过响应期限（{due}）仍未接单。",
            "[Escalation] {number} was not taken up by {due}.",
        ),
        "overdue_answer": (
            "【督办】问政{number}已超过答复期限（{due}）仍未答复。",
            "[Escalation] {number} was not answered by {due}.",
        ),
        "action_claim": ("接单", "claim"),
        "action_assign": ("分派", "assign"),
        "action_note": ("备注", "note"),
        "action_reply": ("回复", "reply"),
        "action_transfer": ("转办", "transfer"),
        "action_retopic": ("改类", "retopic"),
        "action_extend": ("延期", "extend"),
        "action_reject": ("不予受理", "reject"),
        "action_close": ("办结", "close"),
        "action_duplicate": ("标记重复", "mark as duplicate"),
        "action_hide": ("撤下公开", "hide from the public results"),
        "action_unhide": ("恢复公开", "show in the public results again"),
        "status_submitted": ("已提交", "Submitted"),
        "status_accepted": ("已受理", "Accepted"),
        "status_assigned": ("已接单", "Taken up"),
        "status_in_progress": ("办理中", "In progress"),
        "status_answered": ("已答复", "Answered"),
        "status_closed": ("已办结", "Closed"),
        "status_rejected": ("不予受理", "Rejected"),
        "status_withdrawn": ("已撤回", "Withdrawn"),
        "status_duplicate": ("重复件", "Duplicate"),
        "status_reopened": ("重新办理", "Reopened"),
        # --- withdrawing asks first (撤回 cannot be undone) ---------------------------------------------
        "withdraw_confirm": (
            "确定撤回{number}？撤回后将不再办理。",
            "Withdraw {number}? It will no longer be handled.",
        ),
        "btn_withdraw_yes": ("确定撤回", "Withdraw"),
        "btn_withdraw_no": ("不撤回", "Keep it"),
        "withdraw_kept": (
            "好的，问政{number}没有撤回，将继续办理。",
            "OK, inquiry {number} is not withdrawn and is still being handled.",
        ),
    }
)


def text(key: str, locale: str, **values: object) -> str:
    """The sentence for ``key`` in ``locale`` (zh when unknown), with ``values`` filled in."""
    zh, en = _CATALOGUE[key]
    template = en if locale == "en" else zh
    return template.format(**values) if values else template


def keys() -> frozenset[str]:
    return frozenset(_CATALOGUE)


def both(key: str) -> tuple[str, str]:
    return _CATALOGUE[key]
