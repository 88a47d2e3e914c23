"""Errors of the merchant API, each with the contract's code."""

from services.common.errors import Conflict, Forbidden, ProblemError, Unauthenticated, Unprocessable


class UnknownMerchantKey(Unauthenticated):
    code = "unknown_merchant_key"

    def __init__(self) -> None:
        super().__init__("商户密钥不存在或已吊销")


class SignatureInvalid(Unauthenticated):
    code = "signature_invalid"

    def __init__(self, detail: str = "签名无效") -> None:
        super().__init__(detail)


class TimestampSkew(Unauthenticated):
    code = "timestamp_skew"

    def __init__(self) -> None:
        super().__init__("X-Timestamp 与服务器时间相差超过 300 秒")


class NonceReused(Unauthenticated):
    code = "nonce_reused"

    def __init__(self) -> None:
        super().__init__("X-Nonce 已使用过")


class IdempotencyKeyRequired(ProblemError):
    status, code = 400, "idempotency_key_required"

    def __init__(self) -> None:
        super().__init__("需要 Idempotency-Key 请求头（不超过 255 个字符）")


class IdempotencyKeyMismatch(Unprocessable):
    code = "idempotency_key_mismatch"

    def __init__(self) -> None:
        super().__init__("同一个 Idempotency-Key 已用于内容不同的请求")


class IdempotencyKeyInProgress(Conflict):
    code = "idempotency_key_in_progress"

    def __init__(self) -> None:
        super().__init__("同一个 Idempotency-Key 的请求仍在处理中，请稍后重试", headers={"Retry-After": "1"})


class QrTokenInvalid(Unprocessable):
    code = "qr_token_invalid"

    def __init__(self) -> None:
        super().__init__("会员码无效")


class QrTokenExpired(Unprocessable):
    code = "qr_token_expired"

    def __init__(self) -> None:
        super().__init__("会员码已过期，请让会员刷新")


class QrTokenUsed(Conflict):
    code = "qr_token_used"

    def __init__(self) -> None:
        super().__init__("会员码已使用，请让会员刷新")


class MemberNotActive(Forbidden):
    code = "member_not_active"

    def __init__(self) -> None:
        super().__init__("会员状态不可用（已停用或非会员）")


class OfferNotOwned(Forbidden):
    code = "offer_not_owned"

    def __init__(self) -> None:
        super().__init__("该优惠不属于本商户")


class NotEligible(Forbidden):
    code = "not_eligible"

    def __init__(self) -> None:
        super().__init__("该会员不在此优惠的适用范围内")


class OfferNotActive(Conflict):
    code = "offer_not_active"

    def __init__(self) -> None:
        super().__init__("优惠未开始或已结束")


class LimitReached(Conflict):
    code = "limit_reached"

    def __init__(self) -> None:
        super().__init__("该会员在本周期内的使用次数已达上限")


class QuotaExhausted(Conflict):
    code = "quota_exhausted"

    def __init__(self) -> None:
        super().__init__("优惠名额已用完")


class MinSpendNotMet(Unprocessable):
    code = "min_spend_not_met"

    def __init__(self) -> None:
        super().__init__("未达到最低消费金额")


class InvalidDateRange(Unprocessable):
    code = "invalid_date_range"

    def __init__(self) -> None:
        super().__init__("日期范围无效（from ≤ to，最长 366 天）")
