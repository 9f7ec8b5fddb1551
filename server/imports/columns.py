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
