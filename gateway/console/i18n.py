"""Interface text: Chinese by default, English available (``?lang=en`` or the ``lang`` cookie)."""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT = "zh"

STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"zh": "联动网关 · 坐席监督台", "en": "Linkage Gateway · Supervisor console"},
    "nav_search": {"zh": "查询", "en": "Search"},
    "nav_dashboard": {"zh": "态势看板", "en": "Dashboard"},
    "nav_audit": {"zh": "审计日志", "en": "Audit log"},
    "logout": {"zh": "退出", "en": "Log out"},
    "login": {"zh": "登录", "en": "Log in"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "login_limited": {"zh": "登录失败次数过多，请稍后再试", "en": "Too many failed logins; try again later"},
    "login_csrf": {"zh": "页面已过期，请重新登录", "en": "The page expired; please log in again"},
    "caller": {"zh": "来电号码", "en": "Caller number"},
    "date_from": {"zh": "开始日期", "en": "From"},
    "date_to": {"zh": "结束日期", "en": "To"},
    "route": {"zh": "分流去向", "en": "Route"},
    "agency": {"zh": "承办单位", "en": "Agency"},
    "status": {"zh": "状态", "en": "Status"},
    "overdue": {"zh": "已超期", "en": "Overdue"},
    "text": {"zh": "通话内容", "en": "Transcript text"},
    "search": {"zh": "查询", "en": "Search"},
    "any": {"zh": "全部", "en": "Any"},
    "results": {"zh": "条结果", "en": "results"},
    "no_results": {"zh": "没有符合条件的通话", "en": "No calls match"},
    "started_at": {"zh": "来电时间", "en": "Started"},
    "legs": {"zh": "通话段", "en": "Legs"},
    "tickets": {"zh": "工单", "en": "Tickets"},
    "open": {"zh": "查看", "en": "Open"},
    "incident": {"zh": "事件", "en": "Incident"},
    "leg_110": {"zh": "110 接警", "en": "110 call"},
    "leg_ivr": {"zh": "溢出语音导航", "en": "Overflow IVR"},
    "leg_12345": {"zh": "12345 热线", "en": "12345 hotline"},
    "speaker_caller": {"zh": "来电人", "en": "Caller"},
    "speaker_taker": {"zh": "接警员", "en": "Call-taker"},
    "speaker_agent": {"zh": "话务员", "en": "Agent"},
    "speaker_unknown": {"zh": "未知", "en": "Unknown"},
    "speed": {"zh": "倍速", "en": "Speed"},
    "back5": {"zh": "后退5秒", "en": "Back 5 s"},
    "fwd5": {"zh": "前进5秒", "en": "Forward 5 s"},
    "download": {"zh": "下载", "en": "Download"},
    "withheld": {"zh": "无录音调阅权限", "en": "No permission to hear recordings"},
    "deleted": {"zh": "录音已按保存期限删除", "en": "Audio deleted after the retention period"},
    "triage": {"zh": "智能分流结果", "en": "Triage result"},
    "matched_terms": {"zh": "命中词", "en": "Matched terms"},
    "confidence": {"zh": "置信度", "en": "Confidence"},
    "timeline": {"zh": "工单进程", "en": "Ticket timeline"},
    "callback": {"zh": "需回拨", "en": "Call back"},
    "deadline": {"zh": "时限", "en": "Deadline"},
    "met": {"zh": "按时", "en": "met"},
    "missed": {"zh": "超时", "en": "missed"},
    "pending": {"zh": "办理中", "en": "pending"},
    "arrival": {"zh": "到场时限", "en": "Arrival"},
    "handling": {"zh": "办结时限", "en": "Handling"},
    "ev_created": {"zh": "创建", "en": "created"},
    "ev_delivered": {"zh": "已派发", "en": "delivered"},
    "ev_accepted": {"zh": "已签收", "en": "accepted"},
    "ev_arrived": {"zh": "已到场", "en": "arrived"},
    "ev_handled": {"zh": "已处置", "en": "handled"},
    "ev_returned": {"zh": "已退回", "en": "returned"},
    "ev_closed": {"zh": "已办结", "en": "closed"},
    "ev_escalated": {"zh": "督办升级", "en": "escalated"},
    "ev_rerouted": {"zh": "改派", "en": "rerouted"},
    "ev_rated": {"zh": "已回访评价", "en": "rated"},
    "calls_today": {"zh": "今日来电", "en": "Calls today"},
    "diverted": {"zh": "分流至12345", "en": "Diverted to 12345"},
    "overflowed": {"zh": "溢出", "en": "Overflowed"},
    "handed_back": {"zh": "紧急警情回转", "en": "Emergencies handed back"},
    "overdue_tickets": {"zh": "超期工单", "en": "Overdue tickets"},
    "rates": {"zh": "各单位响应率、解决率、满意率（近30天）", "en": "Per-agency rates (last 30 days)"},
    "response_rate": {"zh": "响应率", "en": "Response"},
    "resolution_rate": {"zh": "解决率", "en": "Resolution"},
    "satisfaction_rate": {"zh": "满意率", "en": "Satisfaction"},
    "no_data": {"zh": "暂无数据", "en": "No data"},
    "audit_at": {"zh": "时间", "en": "When"},
    "audit_user": {"zh": "用户", "en": "Who"},
    "audit_action": {"zh": "操作", "en": "Action"},
    "audit_target": {"zh": "对象", "en": "What"},
    "audit_detail": {"zh": "详情", "en": "Detail"},
    "forbidden": {"zh": "无权访问", "en": "Forbidden"},
    "not_found": {"zh": "未找到", "en": "Not found"},
    "transcript": {"zh": "转写文本", "en": "Transcript"},
    "other_lang": {"zh": "English", "en": "中文"},
    "route_police": {"zh": "公安 110", "en": "Police 110"},
    "route_fire": {"zh": "消防 119", "en": "Fire 119"},
    "route_medical": {"zh": "急救 120", "en": "Ambulance 120"},
    "route_emergency": {"zh": "应急指挥中心", "en": "Emergency centre"},
    "route_hotline": {"zh": "12345 热线", "en": "12345 hotline"},
    "route_not_accepted": {"zh": "不予受理", "en": "Not accepted"},
    "route_review": {"zh": "人工研判", "en": "Human review"},
    "side_mix": {"zh": "双方混音", "en": "Both sides"},
    "side_caller": {"zh": "来电人一侧", "en": "Caller side"},
    "side_taker": {"zh": "接听方一侧", "en": "Call-taker side"},
    "outcome_answered": {"zh": "已接听", "en": "answered"},
    "outcome_overflowed": {"zh": "溢出", "en": "overflowed"},
    "outcome_transferred": {"zh": "已转接", "en": "transferred"},
    "outcome_abandoned": {"zh": "放弃", "en": "abandoned"},
}


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT


def strings(lang: str) -> dict[str, str]:
    """Every interface string in ``lang`` (falling back to Chinese)."""
    lang = pick(lang)
    return {key: texts.get(lang) or texts[DEFAULT] for key, texts in STRINGS.items()}


def t(key: str, lang: str) -> str:
    texts = STRINGS.get(key)
    return (texts.get(pick(lang)) or texts[DEFAULT]) if texts else key
