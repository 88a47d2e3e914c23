from services.common.errors import Unauthenticated


class RefreshTokenInvalid(Unauthenticated):
    code = "unauthenticated"

    def __init__(self) -> None:
        super().__init__("刷新令牌无效或已过期")


class RefreshTokenReused(Unauthenticated):
    code = "refresh_token_reused"

    def __init__(self) -> None:
        super().__init__("刷新令牌已被使用，该登录的所有令牌已失效，请重新登录")
