from services.common.errors import NotFound, Unprocessable


class MerchantNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("商户不存在")


class CredentialNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("密钥不存在")


class InvalidOrg(Unprocessable):
    code = "invalid_org"

    def __init__(self) -> None:
        super().__init__("组织不存在")
