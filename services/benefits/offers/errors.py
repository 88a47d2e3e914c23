from services.common.errors import NotFound


class OfferNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("优惠不存在")
