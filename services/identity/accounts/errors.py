from services.common.errors import Conflict, Unprocessable


class UsernameTaken(Conflict):
    code = "username_taken"

    def __init__(self) -> None:
        super().__init__("用户名已被使用")


class InvalidOrg(Unprocessable):
    code = "invalid_org"

    def __init__(self) -> None:
        super().__init__("组织不存在")


class PhoneConflict(Conflict):
    code = "phone_conflict"

    def __init__(self) -> None:
        super().__init__("该账号已绑定其他手机号")
