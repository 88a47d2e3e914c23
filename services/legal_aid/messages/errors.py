from __future__ import annotations

from services.common.errors import Forbidden


class InternalNotAllowed(Forbidden):
    def __init__(self) -> None:
        super().__init__("只有工会工作人员和承办律师可以发布内部备注")
