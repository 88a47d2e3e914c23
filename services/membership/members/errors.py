from services.common.errors import Conflict, NotFound, ProblemError


class NotAMember(NotFound):
    code = "not_a_member"

    def __init__(self) -> None:
        super().__init__("您还不是工会会员")


class MemberNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("会员不存在")


class MemberNotActive(ProblemError):
    status, code = 403, "member_not_active"

    def __init__(self, detail: str = "会员资格已暂停") -> None:
        super().__init__(detail)


class InvalidState(Conflict):
    code = "invalid_state"
