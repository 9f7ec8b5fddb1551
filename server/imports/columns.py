"""The columns each import understands: a canonical English name and the Chinese headers offices use."""

from __future__ import annotations

ROSTER: dict[str, tuple[str, ...]] = {
    "student_no": ("学号", "学生学号", "studentno"),
    "name": ("姓名", "学生姓名"),
    "college": ("学院", "所在学院", "院系"),
    "major": ("专业",),
    "degree_level": ("学位类别", "培养层次", "层次", "学历层次", "degree"),
    "supervisor": ("导师", "导师姓名"),
    "expected_graduation": ("预计毕业日期", "预计毕业时间", "毕业日期"),
    "lived_on_campus": ("是否住校", "住校", "是否住宿"),
    "batch": ("批次", "离校批次"),
}
ROSTER_REQUIRED = ("student_no", "name", "college", "major", "degree_level", "expected_graduation")

DEPARTMENT: dict[str, dict[str, tuple[str, ...]]] = {
    "library": {
        "owed_books": ("欠书", "欠书数量", "欠书数", "未还图书"),
        "owed_fees": ("欠费", "欠费金额", "图书馆欠费"),
        "violations": ("违章", "违章次数", "违章记录"),
        "card_status": ("借书证状态", "借书证"),
        "thesis_status": ("论文提交状态", "论文状态"),
    },
    "archives": {"thesis_status": ("论文提交状态", "论文状态", "论文审核状态")},
    "apartment": {
        "building": ("宿舍楼", "楼栋", "宿舍"),
        "move_out_date": ("退宿日期",),
        "move_out_handler": ("退宿办理人", "办理人"),
    },
    "finance": {
        "arrears": ("欠费", "欠费金额", "欠款"),
        "fee_name": ("收费项目", "费用项目", "费用名称"),
        "fee_due": ("应缴", "应缴金额", "应收金额"),
        "fee_paid": ("已缴", "已缴金额", "实缴金额", "实收金额"),
    },
}
STUDENT_NO = {"student_no": ROSTER["student_no"]}
KINDS = ("roster", "library", "archives", "apartment", "finance")

# What a cell may hold, for the help table of the import page.
VALUES_HELP: dict[str, str] = {
    "student_no": "字母、数字、-、_ letters, digits, - and _",
    "degree_level": "硕士/博士 或 master/doctor",
    "expected_graduation": "2027-06-30、2027/6/30 或 Excel 日期 (an Excel date)",
    "lived_on_campus": "是/否、yes/no、1/0（缺省为是 default yes）",
    "batch": "已有的离校批次名称 an existing batch name",
    "owed_books": "整数 whole number",
    "violations": "整数 whole number",
    "owed_fees": "元 yuan, e.g. 12.50",
    "arrears": "元 yuan, e.g. 1250.00",
    "fee_due": "元 yuan",
    "fee_paid": "元 yuan",
    "card_status": "正常/active、已注销/cancelled",
    "library.thesis_status": "未提交/not_submitted、已提交/submitted、记录审核通过/approved、审核未通过/rejected",
    "archives.thesis_status": "未提交/not_submitted、已收到/received、已审核/reviewed",
    "move_out_date": "日期 date；空 = 未退宿 empty = not moved out",
}
