from services.common.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable


class JobNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("职位不存在")


class JobNotOpen(Conflict):
    code = "job_not_open"

    def __init__(self, detail: str = "职位已关闭或已过期") -> None:
        super().__init__(detail)


class JobNotPending(Conflict):
    code = "job_not_pending"

    def __init__(self) -> None:
        super().__init__("职位不在待审核状态")


class DuplicatePosting(Conflict):
    code = "duplicate_posting"

    def __init__(self) -> None:
        super().__init__("您在该城市已有同名的在招职位")


class OrgRequired(ProblemError):
    status, code = 403, "org_required"

    def __init__(self) -> None:
        super().__init__("账号未归属任何组织，不能发布职位")


class InvalidOrg(Unprocessable):
    code = "invalid_org"

    def __init__(self) -> None:
        super().__init__("组织不存在或不在您的管辖范围内")


class InvalidCreditCode(Unprocessable):
    code = "invalid_credit_code"

    def __init__(self) -> None:
        super().__init__("统一社会信用代码校验不通过")


class InvalidPhone(Unprocessable):
    code = "invalid_phone"

    def __init__(self) -> None:
        super().__init__("联系电话需为中国大陆手机号")


class NotReviewer(Forbidden):
    def __init__(self, detail: str = "无权审核该职位") -> None:
        super().__init__(detail)
