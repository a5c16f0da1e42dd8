"""The texts of what a city runs after intake: 督办 that climbs, hot topics, duplicates.

Kept apart from ``dialogs.texts`` (which merges them into its one catalogue) so these features
read as one voice and change without touching the intake's sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CATALOGUE: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        # --- 督办 that climbs: staff ---------------------------------------------------------------
        "yellow_card": (
            "【黄牌督办】问政{number}（{department}）已超过期限{due}：{cause}。",
            "[Yellow card] {number} ({department}) is past its deadline {due}: {cause}.",
        ),
        "red_card": (
            "【红牌督办】问政{number}（{department}）期限{due}已过仍未办结：{cause}。请市级督办跟进。",
            "[Red card] {number} ({department}) is still not resolved after its deadline {due}: {cause}. "
            "City-level supervision, please follow up.",
        ),
        "urged_before_deadline": (
            "【市民催办】问政{number}（{department}），答复期限{due}，请抓紧办理。",
            "[Citizen chases] {number} ({department}) is due {due}; please speed it up.",
        ),
        "supervision_cause_overdue_respond": ("超过响应期限仍未接单", "not taken up in time"),
        "supervision_cause_overdue_answer": ("超过答复期限仍未答复", "not answered in time"),
        "supervision_cause_urge": ("市民超期催办", "the citizen chased it after the deadline"),
        "supervision_cause_unsatisfied_twice": ("市民第二次不满意", "the citizen is not satisfied a second time"),
        "supervision_cause_still_unanswered": ("黄牌督办后仍未答复", "still unanswered after the yellow card"),
        "rung_1": ("黄牌", "yellow"),
        "rung_2": ("红牌", "red"),
        "staff_supervised_empty": ("目前没有督办中的问政。", "Nothing is under supervision."),
        "staff_supervised_title": ("督办中的问政（{count}件，红牌在前）：", "Under supervision ({count}, red first):"),
        "staff_supervised_line": (
            "{number}｜{rung}｜{department}｜{status}｜期限{due}{overdue}",
            "{number} | {rung} | {department} | {status} | due {due}{overdue}",
        ),
        "supervision_clear_supervisors_only": (
            "只有主管和管理员可以解除督办（已记录）。",
            "Only supervisors and admins may clear a supervision (logged).",
        ),
        "supervision_not_escalated": ("问政{number}不在督办中。", "Inquiry {number} is not under supervision."),
        "action_unsupervise": ("解除督办", "clear supervision"),
        # --- 督办 that climbs: citizens -------------------------------------------------------------
        "urge_usage": (
            "请在“催办”后写上问政编号，如：催办 WZ20261122-0007",
            'Write the inquiry number after "urge", e.g. urge WZ20261122-0007',
        ),
        "urge_climbed": (
            "已为您催办问政{number}：已超过办理期限，已升级督办，主管部门会跟进。",
            "Chased {number}: it is past its deadline, so it has been escalated to the supervisors.",
        ),
        "urge_reminded": (
            "已提醒承办人员抓紧办理问政{number}（仍在办理期限内）。",
            "We reminded the handler of {number} (it is still within its deadline).",
        ),
        "urge_too_soon": (
            "问政{number}已经催办过，请耐心等待（每天可催办一次）。",
            "{number} was chased recently; please wait (once a day).",
        ),
        "urge_not_open": (
            "问政{number}目前无需催办（已答复、已办结或已撤回）。",
            "{number} needs no chasing (answered, closed or withdrawn).",
        ),
        # --- hot topics -------------------------------------------------------------------------
        "hot_digest_title": (
            "【热点日报】{day}：近{recent_days}天明显上升、至少{min_citizens}位市民反映的问题{count}个",
            "[Hot topics] {day}: {count} rising in the last {recent_days} days, "
            "each raised by {min_citizens}+ citizens",
        ),
        "hot_digest_none": ("【热点日报】{day}：没有明显上升的问题。", "[Hot topics] {day}: nothing is rising."),
        "hot_line": (
            "{rank}. {city}｜{words}｜{count}件（{citizens}位市民）"
            "｜增长{growth}倍（此前{baseline_days}天{baseline}件）｜{districts}｜{numbers}",
            "{rank}. {city} | {words} | {count} tickets ({citizens} citizens) | x{growth} "
            "({baseline} in the {baseline_days} days before) | {districts} | {numbers}",
        ),
        "hot_no_city": ("未注明城市", "no city"),
        "hot_subscribed": (
            "已订阅热点日报，每天早上发送到这里。退订请发“退订热点”。",
            'Subscribed to the daily hot-topic digest. Send "unsubscribe hot" to stop.',
        ),
        "hot_already_subscribed": ("您已订阅热点日报。", "You are already subscribed."),
        "hot_unsubscribed": ("已退订热点日报。", "Unsubscribed from the hot-topic digest."),
        "hot_not_subscribed": ("您没有订阅热点日报。", "You were not subscribed."),
        "hot_latest_none": ("还没有热点分析结果。", "No hot-topic run yet."),
        # --- duplicates -------------------------------------------------------------------------
        "duplicate_offer": (
            "这个问题已有人反映（编号{number}，{status}）：{details}\n您可以关注它，办理进展会推送给您；或仍要单独提交。",
            "This has already been reported ({number}, {status}): {details}\nFollow it to get its updates, "
            "or file yours anyway.",
        ),
        "btn_follow": ("关注它", "Follow it"),
        "btn_file_anyway": ("仍要单独提交", "File mine anyway"),
        "followed": (
            "已关注问政{number}，办理进展会推送给您。",
            "You now follow {number}; its updates will reach you here.",
        ),
        "follow_unavailable": (
            "问政{number}已办结，无法关注。请确认下面您自己的问政后提交。",
            "{number} has been closed and cannot be followed. Please check your own inquiry below and submit it.",
        ),
        "followed_prefix": ("【您关注的问政{number}】", "[{number}, which you follow] "),
        "follower_unsatisfied": (
            "关注问政{number}的市民对答复不满意（不影响本问政的评价与考核）：{comment}",
            "A citizen following {number} is not satisfied with the answer (not part of its rating or KPIs): {comment}",
        ),
        "follower_ratings": (
            "关注者评价：满意{s1}，基本满意{s2}，不满意{s3}（不计入考核）",
            "Followers' ratings: satisfied {s1}, fairly satisfied {s2}, not satisfied {s3} (not counted in KPIs)",
        ),
        "card_unlinked": (
            "已取消与{original}的关联，本问政重新待办，时限重新计算。",
            "Unlinked from {original}: this inquiry is a to-do again, with fresh deadlines.",
        ),
        "dup_suggest_title": (
            "疑似重复（请核实，不会自动合并）：",
            "Possible duplicates (check; never merged automatically):",
        ),
        "dup_suggest_line": (
            "{number}｜{status}｜相似度{score}｜{where}",
            "{number} | {status} | similarity {score} | {where}",
        ),
        "dup_same_place": ("同一地点", "same place"),
        "dup_distance": ("相距{metres}米", "{metres} m away"),
        "link_exists": ("问政{number}已关联其他问政，请先取消关联。", "{number} is already linked; unlink it first."),
        "link_none": ("问政{number}没有关联。", "{number} is not linked."),
        "action_link": ("关联", "link"),
        "action_unlink": ("取消关联", "unlink"),
    }
)
