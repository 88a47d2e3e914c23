from services.common.errors import Conflict, NotFound, Unprocessable


class TransferNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("转移申请不存在")


class TransferPending(Conflict):
    code = "transfer_pending"

    def __init__(self) -> None:
        super().__init__("已有待处理的转移申请")


class TransferNotPending(Conflict):
    code = "transfer_not_pending"

    def __init__(self) -> None:
        super().__init__("转移申请已处理")


class SameOrg(Unprocessable):
    code = "same_org"

    def __init__(self) -> None:
        super().__init__("已在该组织")
