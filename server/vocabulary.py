"""Words for codes that every page and the API show the same way (ground floor, pure data)."""

from __future__ import annotations

# An item's status; "none": no status was ever computed for it.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "passed": ("通过", "Passed"),
    "not_passed": ("未通过", "Not passed"),
    "unavailable": ("暂不可查", "Unavailable"),
    "none": ("尚无结果", "No result yet"),
}

DEGREE_LABELS: dict[str, tuple[str, str]] = {"master": ("硕士研究生", "Master's"), "doctor": ("博士研究生", "Doctoral")}

CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "api": ("微信小程序", "WeChat mini-program"),
    "browser": ("网页", "Web"),
    "wecom": ("企业微信", "WeCom"),
}

# A staff member's role (`role` on a staff account).
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "admin": ("管理员", "Administrator"),
    "operator": ("部门操作员", "Department operator"),
    "counter": ("窗口人员", "Counter staff"),
    "viewer": ("学院查看员", "College viewer"),
    "secretary": ("学院秘书", "College secretary"),
}

# Where an item's record came from (`source` on its row): a pulled source's kind, how a department sent it, or
# "console:<username>" for a record a department's staff entered on the console.
SOURCE_LABELS: dict[str, tuple[str, str]] = {
    "http": ("部门业务系统", "The department's own system"),
    "fake": ("演示数据", "Demo data"),
    "local": ("离校服务记录", "Lixiao's own records"),
    "api": ("部门系统推送", "Sent by the department's system"),
    "import": ("部门批量导入", "Imported by the department"),
    "console": ("部门老师录入", "Entered by department staff"),
}


def source_label(source: str) -> tuple[str, str]:
    """Where a record came from, in words; empty for a record never read, never the stored code."""
    if not source:
        return "", ""
    return SOURCE_LABELS.get(source.split(":", 1)[0], ("其他来源", "Another source"))


# Why an item's status changed (`cause` on a transition) when it is not how a record arrived (a source above:
# "console:<action>", "api:<department>", "import:<department>").
CAUSE_LABELS: dict[str, tuple[str, str]] = {
    "refresh": ("重新读取记录", "Records read again"),
    "roster": ("学生名单导入", "Roster imported"),
    "card_cancelled": ("学生注销借书证", "Library card cancelled by the student"),
    "demo": ("演示数据", "Demo data"),
}


def cause_label(cause: str) -> tuple[str, str]:
    """Why a status changed, in words; never the stored code."""
    kind = cause.split(":", 1)[0]
    if cause in CAUSE_LABELS or kind not in SOURCE_LABELS:
        return CAUSE_LABELS.get(cause, ("其他原因", "Another cause"))
    return SOURCE_LABELS[kind]


# Who made a change (`actor` on an audit row) other than a staff member, who is named by their username.
ACTOR_LABELS: dict[str, tuple[str, str]] = {
    "student": ("学生本人", "The student"),
    "department_key": ("部门系统", "The department's system"),
    "system": ("离校服务", "Lixiao"),
}


def actor_label(actor: str) -> tuple[str, str]:
    """Who made a change: a staff member's username (the console shows who did what), else in words."""
    kind, _, name = actor.partition(":")
    if kind == "staff" and name:
        return name, name
    return ACTOR_LABELS.get(kind, ("其他", "Someone else"))


# What a line of a student's history is about when it is not one item: the whole clearance ("all": every item
# became passed, or stopped being) or the student's roster entry ("student").
HISTORY_SUBJECTS: dict[str, tuple[str, str]] = {
    "all": ("全部离校事项", "All clearance items"),
    "student": ("学生信息", "Student details"),
}


# What a scan of a certificate found (`result` on a scan row) and where it was scanned (`channel`).
SCAN_RESULT_LABELS: dict[str, tuple[str, str]] = {
    "valid": ("有效", "Valid"),
    "revoked": ("已撤销", "Revoked"),
    "unknown": ("未知证明", "Unknown certificate"),
    "invalid": ("无效（可能伪造）", "Invalid (possibly forged)"),
}
SCAN_CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "public": ("公开核验页", "Public check page"),
    "console": ("窗口扫码枪", "Counter scanner"),
    "console-wecom": ("窗口企业微信扫码", "Counter, WeCom camera"),
    "api-wechat": ("微信小程序", "WeChat mini-program"),
    "api-wecom": ("企业微信", "WeCom"),
}


def scan_label(result: str, channel: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """A scan's result and channel in words; a channel added later reads "another channel", not its code."""
    return (SCAN_RESULT_LABELS.get(result, ("其他结果", "Another result")),
            SCAN_CHANNEL_LABELS.get(channel, ("其他渠道", "Another channel")))


# A certificate's status as the pages and the verify page say it ("unknown": a scan that finds no certificate).
CERTIFICATE_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "valid": ("有效", "Valid"),
    "handed_over": ("有效（已办理交接）", "Valid (hand-over recorded)"),
    "revoked": ("已撤销", "Revoked"),
    "unknown": ("无法确认", "Not recognised"),
}

# What the counter hands over against a certificate, each at most once (`item` on a hand-over row), in the order
# the counter offers them, and their words.
HANDOVER_ITEMS: tuple[str, ...] = ("diploma", "degree_certificate", "archive_transfer", "party_transfer")
HANDOVER_LABELS: dict[str, tuple[str, str]] = {
    "diploma": ("毕业证书", "Diploma"),
    "degree_certificate": ("学位证书", "Degree certificate"),
    "archive_transfer": ("档案转递", "Personal file transfer"),
    "party_transfer": ("党组织关系转接", "Party membership transfer"),
}


# What a push is about (`event` on an outbox row: server/clearance/events.py).
EVENT_LABELS: dict[str, tuple[str, str]] = {
    "item_passed": ("事项通过通知", "Item passed"),
    "all_passed": ("全部事项通过通知", "All items passed"),
    "certificate_issued": ("离校证明签发通知", "Certificate issued"),
    "batch_closing_reminder": ("批次截止提醒", "Clearance closing reminder"),
    "wechat_bound": ("微信绑定提醒", "New WeChat binding notice"),
}

# How a push went out (`channel` on an outbox row, 8 characters): a mini-program subscribe message, a WeCom card,
# or a service-account template message.
PUSH_CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "wechat": ("微信订阅消息", "WeChat subscribe message"),
    "wecom": ("企业微信消息", "WeCom message"),
    "svc_acct": ("微信服务号消息", "WeChat service account message"),
}

# What a signed-in session was started through ("<kind>:<channel>" of a session row), as its owner reads it.
SESSION_CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "web:browser": ("浏览器", "Browser"),
    "web:wecom": ("企业微信网页", "WeCom web page"),
    "api:wechat": ("微信小程序", "WeChat mini-program"),
    "api:wecom": ("企业微信应用", "WeCom app"),
}

# Where a push is in its life (`status` on an outbox row: server/messaging/claims.py).
DELIVERY_LABELS: dict[str, tuple[str, str]] = {
    "pending": ("等待推送", "Waiting"),
    "sending": ("正在推送", "Sending"),
    "sent": ("已送达平台", "Delivered to the platform"),
    "unconfirmed": ("未确认", "Unconfirmed"),
    "skipped": ("仅应用内通知", "In-app only"),
    "refused": ("被平台拒绝", "Refused by the platform"),
    "failed": ("多次失败", "Failed after retries"),
}


def code_label(table: dict[str, tuple[str, str]], code: str | None) -> tuple[str, str]:
    """A code in words from one of the tables above; a code the table does not know (yet) as it is stored, so an
    administrator can still tell it apart, and "—" for none."""
    if not code:
        return "—", "—"
    return table.get(code, (code, code))


def status_label(status: str | None) -> tuple[str, str]:
    """An item status in both languages; None means no status was ever computed."""
    return STATUS_LABELS.get(status or "none", (str(status), str(status)))


# What an audit row records (`action`), as the audit log shows it. Two keys stand for one action per item, which the
# page completes with the item's title: "<item>_record.write" (an item's record) and "import.<item>" (a file of
# an item's records). tests/test_vocabulary_audit.py reads server/ for every action written and finds its words here.
AUDIT_ACTIONS: dict[str, tuple[str, str]] = {
    "<item>_record.write": ("记录更新", "record updated"),
    "import.<item>": ("记录批量导入", "records imported"),
    "import.roster": ("学生名单导入", "Roster imported"),
    "student.create": ("学生加入名单", "Student added to the roster"),
    "student.update": ("学生信息更新", "Student details updated"),
    "application.submit": ("提交离校申请", "Clearance submitted"),
    "certificate.issue": ("签发离校证明", "Certificate issued"),
    "certificate.revoke": ("撤销离校证明", "Certificate withdrawn"),
    "certificate.reissue": ("重新签发离校证明", "Certificate re-issued"),
    "certificate.handover": ("登记交接", "Hand-over recorded"),
    "batch.create": ("创建批次", "Batch created"),
    "batch.update": ("修改批次", "Batch changed"),
    "batch.close": ("提前关闭批次", "Batch closed early"),
    "batch.reopen": ("重新开放批次", "Batch reopened"),
    "staff.create": ("添加工作人员", "Staff member added"),
    "staff.create_admin": ("命令行设置管理员", "Administrator set from the command line"),
    "staff.update": ("修改工作人员", "Staff member changed"),
    "staff.sessions_end": ("结束工作人员的全部登录", "All of a staff member's sessions ended"),
    "department_key.create": ("创建部门接口密钥", "Department key created"),
    "department_key.revoke": ("吊销部门接口密钥", "Department key revoked"),
    "wechat.bind": ("绑定微信", "WeChat bound"),
    "wechat.rebind": ("改绑到新的微信", "WeChat binding moved"),
    "wechat.unbind": ("解除微信绑定", "WeChat unbound"),
    "cas.roster_differs": ("统一身份认证信息与名单不同", "Identity login differs from the roster"),
    "export.students": ("导出学生名单", "Students exported"),
    "push.resend": ("重发推送", "Push resent"),
    "cache.retire": ("作废缓存数据", "Cached data retired"),
    "library_card.cancel": ("学生注销借书证", "Library card cancelled"),
    "finance.clear_arrears": ("核销欠费", "Arrears cleared"),
}


def audit_action_key(action: str) -> str:
    """The key of AUDIT_ACTIONS that says an action: its own, or the one of its kind for an item's action."""
    if action.endswith("_record.write"):
        return "<item>_record.write"
    if action.startswith("import.") and action not in AUDIT_ACTIONS:
        return "import.<item>"
    return action


def audit_action_label(action: str) -> tuple[str, str]:
    """An audit action in words (an item's action without the item: the page adds its title); an action with no
    words yet as it is stored, so an auditor can still tell it apart."""
    return AUDIT_ACTIONS.get(audit_action_key(action), (action, action))


# Where an audited change came from (`origin` on an audit row) when it is not an address: the server's command
# line, or nowhere outside ("": Lixiao itself, as when a certificate is issued on submission).
ORIGIN_LABELS: dict[str, tuple[str, str]] = {
    "cli": ("服务器命令行", "Server command line"),
    "": ("离校服务自动完成", "Lixiao, automatically"),
}


def origin_label(origin: str | None) -> tuple[str, str]:
    """An audit row's origin in words; an address as it is."""
    origin = origin or ""
    return ORIGIN_LABELS.get(origin, (origin, origin))
