from services.common.errors import Conflict, Forbidden


class AlreadyApplied(Conflict):
    code = "already_applied"

    def __init__(self) -> None:
        super().__init__("您已申请过该职位")


class PhoneRequired(Conflict):
    code = "phone_required"

    def __init__(self) -> None:
        super().__init__("请先绑定手机号")


class OwnJob(Forbidden):
    def __init__(self) -> None:
        super().__init__("不能申请自己发布的职位")


class NotApplicantViewer(Forbidden):
    def __init__(self) -> None:
        super().__init__("只有发布者或管辖范围内的工作人员可以查看申请人")
