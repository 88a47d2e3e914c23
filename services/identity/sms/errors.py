from services.common.errors import Unauthenticated


class InvalidCode(Unauthenticated):
    code = "invalid_code"

    def __init__(self) -> None:
        super().__init__("验证码错误或已失效")
