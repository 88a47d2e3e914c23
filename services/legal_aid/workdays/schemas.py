from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CalendarDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    date: dt.date
    workday: bool
    note: str | None = Field(default=None, max_length=200)


class CalendarUpsert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[CalendarDayIn] = Field(min_length=1, max_length=400)


class CalendarDayRead(BaseModel):
    date: dt.date
    workday: bool
    source: Literal["override", "library", "fallback"]
    note: str | None


class CalendarDayList(BaseModel):
    items: list[CalendarDayRead]
    next_cursor: str | None = None
