from services.common.errors import Unauthenticated


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("用户名或密码错误")
