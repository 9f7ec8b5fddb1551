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


def status_label(status: str | None) -> tuple[str, str]:
    """An item status in both languages; None means no status was ever computed."""
    return STATUS_LABELS.get(status or "none", (str(status), str(status)))


# What an audit row records (`action`), as the audit log shows it; "<item>_record.write" is an item's record.
AUDIT_ACTIONS: dict[str, tuple[str, str]] = {
    "record.write": ("记录更新", "Record updated"),
    "application.submit": ("提交离校申请", "Clearance submitted"),
    "certificate.issue": ("签发离校证明", "Certificate issued"),
    "certificate.revoke": ("撤销离校证明", "Certificate withdrawn"),
    "certificate.reissue": ("重新签发离校证明", "Certificate re-issued"),
    "certificate.handover": ("登记交接", "Hand-over recorded"),
}


def audit_action_label(action: str) -> tuple[str, str]:
    """An audit action in words; an item's record write says "record updated" (the page adds the item's title)."""
    if action.endswith("_record.write"):
        return AUDIT_ACTIONS["record.write"]
    return AUDIT_ACTIONS.get(action, (action.replace("_", " ").replace(".", ": "),) * 2)
