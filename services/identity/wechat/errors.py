from services.common.errors import ProblemError, RateLimited, ServiceUnavailable, Unauthenticated


class WechatNotConfigured(ServiceUnavailable):
    code = "wechat_not_configured"

    def __init__(self) -> None:
        super().__init__("微信登录未配置")


class WechatUnavailable(ServiceUnavailable):
    code = "wechat_unavailable"

    def __init__(self) -> None:
        super().__init__("微信服务暂时不可用，请稍后重试")


class WechatCodeInvalid(Unauthenticated):
    code = "wechat_code_invalid"

    def __init__(self) -> None:
        super().__init__("微信登录凭证无效或已使用")


class WechatRateLimited(RateLimited):
    def __init__(self) -> None:
        super().__init__(60, "微信接口调用过于频繁，请稍后再试")


class NotAWechatAccount(ProblemError):
    status, code = 403, "forbidden"

    def __init__(self) -> None:
        super().__init__("该账号不是小程序账号")
