from pydantic import BaseModel, Field


class WechatCode(BaseModel):
    code: str = Field(min_length=1, max_length=256)
