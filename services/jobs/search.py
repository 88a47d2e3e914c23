"""Chinese word segmentation for the search index and for queries (jieba).

Index time uses jieba's search mode (`cut_for_search`), which adds the dictionary words inside
longer words (水电工 → 水电, 电工, 水电工); query time uses the precise mode. A job therefore
matches a query word when jieba recognises that word in its title or description, and a word
that merely spans a word boundary (发电|工程 does not contain 电工) does not match.

Tokens are letters and digits only (punctuation, spaces and operators are separators), at least
two characters long, lower-cased and de-duplicated. Both SQLite's FTS5 `unicode61` tokenizer and
PostgreSQL's parser keep such a token whole, so the stored text and the query go through the
same rules on both databases. A query that yields no token matches nothing: it is never
interpreted as query syntax.

A small job-word dictionary is added (jieba's general dictionary splits 月嫂 into 月 + 嫂, for
example). Changing the dictionary changes segmentation: re-index (`reindex_all`) after editing it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

# Job words the general dictionary misses or splits; frequency high enough to win over splits.
JOB_WORDS = (
    "月嫂 育儿嫂 育婴师 住家保姆 保姆 钟点工 家政员 护工 养老护理员 护理员 陪护 保洁员 保洁 "
    "保安 保安员 门卫 安检员 巡逻员 司机 货车司机 叉车司机 网约车司机 代驾 骑手 外卖员 快递员 配送员 "
    "电工 焊工 电焊工 钳工 木工 瓦工 油漆工 水电工 管道工 装修工 架子工 钢筋工 泥瓦工 普工 操作工 "
    "叉车工 质检员 仓管员 仓管 理货员 分拣员 打包员 装卸工 搬运工 导购 收银员 服务员 传菜员 "
    "厨师 帮厨 面点师 洗碗工 配菜员 店长 店员 销售 客服 文员 会计 出纳 前台 "
    "维修工 汽修 电梯工 空调工 机修工 数控 车工 铣工 磨工 模具工 注塑工 学徒 技工 "
    "园林工 绿化工 物业 楼管 宿管"
).split()

_TOKEN_SPLIT = re.compile(r"[\W_]+", re.UNICODE)
MAX_QUERY_TOKENS = 8


class Segmenter:
    """A private jieba tokenizer (the module-level one is global state other code may touch).

    jieba and its dictionary are loaded on first use, not at start-up: together they hold ~80 MB,
    a third of everything `make run` starts when idle, for a service whose search may not be used
    for a while. The first search or posting write waits ~1 s for them (off the event loop:
    callers run `initialize` in a thread when `ready` is false)."""

    def __init__(self) -> None:
        self._tokenizer: Any = None
        self._ready = False
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._ready

    def initialize(self) -> None:
        with self._lock:
            if self._ready:
                return
            import jieba

            jieba.setLogLevel(60)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in JOB_WORDS:
                tokenizer.add_word(word, freq=200_000)
            self._tokenizer = tokenizer
            self._ready = True

    def index_text(self, *parts: str) -> str:
        """Space-joined tokens for the search column."""
        self.initialize()
        seen: dict[str, None] = {}
        for part in parts:
            for word in self._tokenizer.cut_for_search(part):
                for token in _clean(word):
                    seen.setdefault(token, None)
        return " ".join(seen)

    def query_tokens(self, query: str) -> list[str]:
        self.initialize()
        seen: dict[str, None] = {}
        for word in self._tokenizer.cut(query):
            for token in _clean(word):
                seen.setdefault(token, None)
        return list(seen)[:MAX_QUERY_TOKENS]


def _clean(word: str) -> Iterable[str]:
    for piece in _TOKEN_SPLIT.split(word.lower()):
        if len(piece) >= 2:
            yield piece


segmenter = Segmenter()


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def fts5_match(tokens: list[str], city: str | None = None) -> str:
    """An FTS5 MATCH expression: every token, quoted (a string, never query syntax), ANDed in the
    search_text column; with a city, its phrase in the city column narrows the candidates inside
    the index (the exact city is still compared on the row)."""
    terms = [f"search_text : {_quoted(t)}" for t in tokens]
    if city:
        terms.append(f"city : {_quoted(city)}")
    return " AND ".join(terms)
