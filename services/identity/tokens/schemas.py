from pydantic import BaseModel, Field


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int
    account_id: str


class WechatTokenPair(TokenPair):
    phone_bound: bool


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)
