from services.common.errors import Conflict, NotFound, Unprocessable


class OrgNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("组织不存在")


class InvalidOrg(Unprocessable):
    code = "invalid_org"

    def __init__(self, detail: str = "组织不存在") -> None:
        super().__init__(detail)


class OrgNameTaken(Conflict):
    code = "org_name_taken"

    def __init__(self) -> None:
        super().__init__("同一上级组织下已有同名组织")
