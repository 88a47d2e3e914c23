from __future__ import annotations

from services.common.errors import Conflict, NotFound, ProblemError, Unprocessable


class TicketNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("咨询不存在")


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"当前状态 {status} 不允许执行 {action}")


class InvalidAssignee(Unprocessable):
    code = "invalid_assignee"

    def __init__(self) -> None:
        super().__init__("只能指派给负责该组织的在职律师")


class OrgRequired(Unprocessable):
    code = "org_required"

    def __init__(self) -> None:
        super().__init__("非会员请选择求助的工会组织", extra={"errors": [{"loc": ["body", "org_id"],
                                                                   "msg": "required for a non-member"}]})


class InvalidOrg(Unprocessable):
    code = "invalid_org"

    def __init__(self) -> None:
        super().__init__("组织不存在", extra={"errors": [{"loc": ["body", "org_id"], "msg": "unknown org"}]})


class NoteRequired(Unprocessable):
    code = "validation_error"

    def __init__(self) -> None:
        super().__init__("驳回需要填写理由", extra={"errors": [{"loc": ["body", "note"],
                                                         "msg": "a note is required to reject"}]})


class AlreadyRated(Conflict):
    code = "already_rated"

    def __init__(self) -> None:
        super().__init__("该咨询已评价")


class NotRateable(Conflict):
    code = "not_rateable"

    def __init__(self) -> None:
        super().__init__("咨询办结后才能评价")


class TicketClosed(Conflict):
    code = "ticket_closed"

    def __init__(self) -> None:
        super().__init__("咨询已结束，不能再回复")


class CalendarUnavailable(ProblemError):
    status, code = 503, "calendar_unavailable"
