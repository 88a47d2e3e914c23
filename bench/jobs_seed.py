"""Bulk-load realistic Chinese job postings into the jobs database, fast: the schema from the
real migrations, jieba segmentation once per row (in worker processes, with the service's own
segmenter), batched `executemany` on SQLite (FTS5 triggers off during the load, then one
'rebuild'), `COPY` on PostgreSQL (the generated tsvector column fills itself).

    python -m bench.jobs_seed --jobs 200000 [--sqlite PATH | --postgres URL]

Titles come from real job words with modifiers, across 36 cities and 20 categories; descriptions
are 2-4 sentences from a pool of typical requirement / benefit lines. About 85 % of postings are
open (published, unexpired), the rest pending, rejected, closed or expired, so the visibility
filters do real work.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.common.config import database_url_for_service
from services.common.migrations import upgrade

BATCH = 10_000
CITIES = ("北京 上海 广州 深圳 天津 重庆 成都 武汉 杭州 南京 西安 长沙 郑州 东莞 佛山 苏州 青岛 沈阳 宁波 昆明 "
          "合肥 福州 厦门 济南 大连 哈尔滨 长春 石家庄 南宁 南昌 贵阳 太原 无锡 温州 珠海 惠州").split()
ROLES = {
    # role: category
    "电工": "技工", "水电工": "技工", "焊工": "技工", "电焊工": "技工", "钳工": "技工", "木工": "装修",
    "油漆工": "装修", "瓦工": "装修", "数控车工": "技工", "叉车司机": "物流", "货车司机": "交通运输",
    "网约车司机": "交通运输", "班车司机": "交通运输", "代驾司机": "交通运输", "保安": "安保", "保安员": "安保",
    "门卫": "安保", "安检员": "安保", "月嫂": "家政", "育儿嫂": "家政", "住家保姆": "家政", "钟点工": "家政",
    "保洁员": "家政保洁", "护工": "医护", "养老护理员": "医护", "厨师": "餐饮", "帮厨": "餐饮", "面点师": "餐饮",
    "服务员": "餐饮", "传菜员": "餐饮", "收银员": "零售", "导购": "零售", "店长": "零售", "理货员": "零售",
    "快递员": "物流", "外卖骑手": "物流", "分拣员": "物流", "仓管员": "物流", "装卸工": "物流", "普工": "制造",
    "操作工": "制造", "质检员": "制造", "包装工": "制造", "客服专员": "客服", "电话销售": "销售", "销售代表": "销售",
    "行政文员": "行政", "前台": "行政", "会计": "财务", "出纳": "财务", "美容师": "生活服务", "理发师": "生活服务",
    "汽修工": "汽车", "洗车工": "汽车", "电梯维修工": "技工", "空调安装工": "技工", "绿化工": "物业",
    "物业管理员": "物业", "幼儿教师": "教育", "课程顾问": "教育",
}
MODIFIERS = ("", "", "", "高级", "资深", "初级", "急招", "长期招聘", "熟练", "储备", "夜班", "白班", "持证",
             "兼职", "全职", "有经验")
SUFFIXES = ("", "", "", "（包吃住）", "学徒", "（五险一金）", "（日结）", "组长", "（可培训）")
EMPLOYERS = ("有限公司", "物业服务有限公司", "餐饮管理有限公司", "物流有限公司", "家政服务有限公司",
             "建设工程有限公司", "商贸有限公司", "科技有限公司", "汽车服务有限公司", "人力资源有限公司")
PREFIXES = "华联 鑫达 恒通 安顺 宏图 金辉 永安 盛世 新城 富康 德邦 顺捷 佳美 鸿运 中盛 汇丰 天成 广源".split()
LINES = (
    "要求身体健康，吃苦耐劳，服从安排。", "有相关工作经验者优先。", "公司提供免费住宿和工作餐。",
    "缴纳五险一金，享受带薪年假。", "工作时间早八晚五，周末双休。", "实行两班倒，夜班有补贴。",
    "试用期一个月，转正后工资上调。", "年龄十八至五十岁，男女不限。", "需持有相关上岗证书。",
    "负责日常设备巡检和简单维修。", "负责客户接待和咨询，普通话流利。", "能熟练使用电脑办公软件。",
    "底薪加提成，多劳多得，上不封顶。", "公司为员工提供岗前培训。", "工作地点在市区，交通便利。",
    "每月按时发放工资，绝不拖欠。", "退伍军人优先录用。", "有驾照者优先考虑。", "节假日发放福利。",
    "服从工作安排，责任心强。", "熟悉本地路线者优先。", "持健康证上岗。", "有团队合作精神。",
    "工作环境好，管理规范。", "接受短期工，可日结。", "提供晋升通道和技能培训。",
)


def _text(rng: random.Random) -> tuple[str, str, str]:
    role = rng.choice(list(ROLES))
    title = f"{rng.choice(MODIFIERS)}{role}{rng.choice(SUFFIXES)}"[:60]
    lines = rng.sample(LINES, rng.randint(2, 4))
    if rng.random() < 0.5:
        lines.insert(rng.randint(0, len(lines)), f"招聘{role}若干名。")
    return title, "".join(lines), ROLES[role]


def _segment(chunk: list[tuple[str, str]]) -> list[str]:
    from services.jobs.search import segmenter

    return [segmenter.index_text(title, description) for title, description in chunk]


def _sqlite_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


COLUMNS = ("id", "poster_id", "org_id", "org_path", "title", "employer_name", "employer_credit_code", "city",
           "category", "salary_min", "salary_max", "description", "contact_phone_enc", "contact_phone_masked",
           "expires_at", "status", "close_reason", "review_reason", "reviewed_by", "reviewed_at", "published_at",
           "closed_at", "created_at", "updated_at", "search_text")


def rows(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    org_root = "0" * 31 + "1"
    out = []
    for i in range(n):
        title, description, category = _text(rng)
        created = now - timedelta(days=90 * (n - i) / n, seconds=rng.random())
        r = rng.random()
        status, close_reason = "published", None
        published: datetime | None = created + timedelta(hours=2)
        closed: datetime | None = None
        expires = now + timedelta(days=rng.uniform(1, 170))
        if r < 0.05:
            status, published = "pending_review", None
        elif r < 0.08:
            status, published = "rejected", None
        elif r < 0.15:
            status, close_reason, closed = "closed", rng.choice(("filled", "withdrawn")), now - timedelta(days=1)
        elif r < 0.20:
            expires = now - timedelta(days=rng.uniform(0.1, 30))
        low = rng.randrange(3000, 12000, 500)
        org = f"{rng.randrange(1, 500):032x}"
        out.append({
            "id": f"{int(created.timestamp() * 1000):012x}{i:020x}", "poster_id": f"{rng.randrange(1, 20000):032x}",
            "org_id": org, "org_path": f"/{org_root}/{org}/", "title": title,
            "employer_name": rng.choice(PREFIXES) + rng.choice(EMPLOYERS), "employer_credit_code": None,
            "city": rng.choice(CITIES), "category": category, "salary_min": low,
            "salary_max": low + rng.randrange(0, 6000, 500), "description": description, "contact_phone_enc": None,
            "contact_phone_masked": f"13{rng.randrange(10):d}****{rng.randrange(10000):04d}", "expires_at": expires,
            "status": status, "close_reason": close_reason, "review_reason": None, "reviewed_by": None,
            "reviewed_at": published, "published_at": published, "closed_at": closed, "created_at": created,
            "updated_at": created, "search_text": "",
        })
    return out


def segment_all(data: list[dict[str, Any]], workers: int) -> None:
    pairs = [(r["title"], r["description"]) for r in data]
    chunks = [pairs[i:i + BATCH] for i in range(0, len(pairs), BATCH)]
    with ProcessPoolExecutor(workers) as pool:
        texts = [t for chunk in pool.map(_segment, chunks) for t in chunk]
    for row, text in zip(data, texts, strict=True):
        row["search_text"] = text


def load_sqlite(path: Path, data: list[dict[str, Any]]) -> None:
    upgrade("jobs", f"sqlite+aiosqlite:///{path}")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND name LIKE 'jobs_fts%'"
                            ).fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    times = {"expires_at", "reviewed_at", "published_at", "closed_at", "created_at", "updated_at"}
    sql = f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    for start in range(0, len(data), BATCH):
        batch = [tuple(_sqlite_time(r[c]) if c in times and r[c] is not None else r[c] for c in COLUMNS)
                 for r in data[start:start + BATCH]]
        conn.executemany(sql, batch)
        conn.commit()
    conn.execute("INSERT INTO jobs_fts(jobs_fts) VALUES ('rebuild')")
    for _, ddl in triggers:
        conn.execute(ddl)
    conn.commit()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA optimize")
    conn.commit()
    conn.close()


async def load_postgres(url: str, data: list[dict[str, Any]]) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(user=u.username, password=u.password, host=u.host, port=u.port, database=u.database)
    try:
        await conn.execute("TRUNCATE jobs RESTART IDENTITY CASCADE")
        for start in range(0, len(data), BATCH):
            records = [tuple(r[c] for c in COLUMNS) for r in data[start:start + BATCH]]
            await conn.copy_records_to_table("jobs", records=records, columns=list(COLUMNS))
        await conn.execute("VACUUM ANALYZE jobs")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--sqlite", type=Path, default=Path("bench/results/data/jobs-200000.db"))
    parser.add_argument("--postgres", help="server URL, e.g. postgresql://postgres@127.0.0.1:5432/ "
                                           "(database <name>_jobs is (re)created)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    t0 = time.perf_counter()
    data = rows(args.jobs)
    t1 = time.perf_counter()
    segment_all(data, args.workers)
    t2 = time.perf_counter()
    if args.postgres:
        url = database_url_for_service(args.postgres.rstrip("/") + "/" + "su_bench", "jobs")
        upgrade("jobs", url)
        asyncio.run(load_postgres(url, data))
        target = url
    else:
        args.sqlite.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)
        load_sqlite(args.sqlite, data)
        target = str(args.sqlite)
    t3 = time.perf_counter()
    print(f"{args.jobs} jobs into {target}: generate {t1 - t0:.1f}s, segment {t2 - t1:.1f}s, "
          f"load {t3 - t2:.1f}s, total {t3 - t0:.1f}s", flush=True)


if __name__ == "__main__":
    main()
