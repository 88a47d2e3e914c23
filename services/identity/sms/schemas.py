from pydantic import BaseModel, Field


class SmsSend(BaseModel):
    phone: str = Field(min_length=1, max_length=20)


class SmsSent(BaseModel):
    expires_in: int


class SmsLogin(BaseModel):
    phone: str = Field(min_length=1, max_length=20)
    code: str = Field(min_length=1, max_length=10)
