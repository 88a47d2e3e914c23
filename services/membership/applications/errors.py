from services.common.errors import Conflict, NotFound, Unprocessable


class InvalidIdNumber(Unprocessable):
    code = "invalid_id_number"

    def __init__(self) -> None:
        super().__init__("身份证号码无效（请检查校验位与出生日期）")


class InvalidRealName(Unprocessable):
    code = "invalid_real_name"

    def __init__(self) -> None:
        super().__init__("姓名须为 2-30 个汉字，少数民族姓名可用“·”分隔")


class AlreadyMember(Conflict):
    code = "already_member"

    def __init__(self) -> None:
        super().__init__("已是工会会员")


class ApplicationPending(Conflict):
    code = "application_pending"

    def __init__(self) -> None:
        super().__init__("已有待审核的入会申请")


class PhoneRequired(Conflict):
    code = "phone_required"

    def __init__(self) -> None:
        super().__init__("请先绑定手机号")


class ApplicationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("申请不存在")


class ApplicationNotPending(Conflict):
    code = "application_not_pending"

    def __init__(self) -> None:
        super().__init__("申请已处理")
