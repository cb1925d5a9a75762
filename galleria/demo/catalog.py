"""Static data of the demo mall group: malls, the shop catalogue, licence-plate regions and the staff logins.

Pure data, no database: `seed.py` turns it into rows with a seeded random generator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from galleria.accounts.models import Role
from galleria.merchants.models import Category

GROUP_CODE = "xinghe"
GROUP_NAME = "星河商业集团"
DEMO_PASSWORD = "galleria-demo-2026"
DEFAULT_MEMBERS = 5000
DEFAULT_SEED = 2026
DEFAULT_SALES = 1500  # a year of sales through the real sale service (about 15 ms each on SQLite)


@dataclass(frozen=True)
class MallSpec:
    code: str
    key: str  # the letter that marks this mall in BRANDS
    name: str
    short: str  # used in store names ("喜茶 星河广场店") and contract numbers
    city: str
    address: str
    phone: str
    opens_at: dt.time
    closes_at: dt.time
    parking_spaces: int
    share: int  # relative share of members who joined here


MALLS = (
    MallSpec(
        code="xh-plaza",
        key="P",
        name="星河广场",
        short="PZ",
        city="深圳",
        address="广东省深圳市福田区福华三路 188 号星河广场",
        phone="0755-8360 2026",
        opens_at=dt.time(10, 0),
        closes_at=dt.time(22, 0),
        parking_spaces=1800,
        share=58,
    ),
    MallSpec(
        code="xh-world",
        key="W",
        name="星河天地",
        short="WD",
        city="深圳",
        address="广东省深圳市龙岗区龙岗大道 3388 号星河天地",
        phone="0755-8912 2026",
        opens_at=dt.time(10, 0),
        closes_at=dt.time(22, 30),
        parking_spaces=1200,
        share=42,
    ),
)
PLAZA, WORLD = (m.code for m in MALLS)


@dataclass(frozen=True)
class CategoryProfile:
    floors: tuple[str, ...]
    area_m2: tuple[int, int]
    commission_bp: tuple[int, int]  # inside 300–1500
    industry: str  # the middle of a legal name: 深圳市<stem><industry>有限公司
    term_years: int


PROFILES: dict[str, CategoryProfile] = {
    Category.DINING: CategoryProfile(("B1", "L1", "L4", "L5"), (60, 450), (800, 1200), "餐饮管理", 3),
    Category.FASHION: CategoryProfile(("L1", "L2", "L3"), (120, 1500), (1000, 1500), "服饰", 3),
    Category.KIDS: CategoryProfile(("L4",), (80, 900), (900, 1300), "母婴用品", 3),
    Category.SUPERMARKET: CategoryProfile(("B1",), (120, 6000), (300, 500), "商业连锁", 8),
    Category.CINEMA: CategoryProfile(("L5",), (2500, 4200), (300, 600), "影城管理", 10),
    Category.BEAUTY: CategoryProfile(("L1",), (40, 300), (900, 1400), "化妆品", 3),
    Category.SPORTS: CategoryProfile(("L3",), (150, 1800), (800, 1200), "体育用品", 3),
    Category.SERVICES: CategoryProfile(("B1", "L1", "L2"), (20, 150), (500, 900), "生活服务", 2),
    Category.ELECTRONICS: CategoryProfile(("L2",), (80, 400), (300, 700), "数码科技", 3),
    Category.JEWELRY: CategoryProfile(("L1",), (40, 200), (500, 900), "珠宝首饰", 3),
    Category.HOME: CategoryProfile(("L2", "L3"), (100, 1200), (800, 1200), "家居用品", 3),
    Category.ENTERTAINMENT: CategoryProfile(("L4", "L5"), (300, 2000), (600, 1000), "文化娱乐", 5),
    Category.EDUCATION: CategoryProfile(("L4",), (120, 600), (500, 900), "教育咨询", 3),
}

# Merchants per category: (shop name, malls: "P" = 星河广场, "W" = 星河天地, "PW" = both).
# Brands stand next to local shops; no name appears twice in one mall (the database enforces it too).
BRANDS: dict[str, tuple[tuple[str, str], ...]] = {
    Category.DINING: (
        ("喜茶", "PW"),
        ("海底捞火锅", "PW"),
        ("奈雪的茶", "P"),
        ("星巴克", "PW"),
        ("太二酸菜鱼", "P"),
        ("西贝莜面村", "P"),
        ("麦当劳", "PW"),
        ("肯德基", "W"),
        ("点都德", "P"),
        ("八合里潮汕牛肉火锅", "W"),
        ("蜜雪冰城", "W"),
        ("瑞幸咖啡", "PW"),
        ("外婆家", "P"),
        ("老街口肠粉王", "W"),
    ),
    Category.FASHION: (
        ("优衣库", "P"),
        ("ZARA", "P"),
        ("H&M", "W"),
        ("太平鸟", "PW"),
        ("江南布衣", "P"),
        ("波司登", "W"),
        ("海澜之家", "W"),
        ("MO&Co.", "P"),
        ("热风", "W"),
    ),
    Category.KIDS: (
        ("孩子王", "PW"),
        ("乐高授权专卖店", "P"),
        ("巴拉巴拉", "PW"),
        ("好孩子", "W"),
    ),
    Category.SUPERMARKET: (
        ("Ole' 精品超市", "P"),
        ("永辉超市", "W"),
        ("7-Eleven 便利店", "P"),
        ("美宜佳便利店", "W"),
    ),
    Category.CINEMA: (
        ("万达影城", "P"),
        ("CGV 影城", "W"),
    ),
    Category.BEAUTY: (
        ("屈臣氏", "PW"),
        ("丝芙兰", "P"),
        ("完美日记", "P"),
        ("花西子", "W"),
        ("兰蔻", "P"),
    ),
    Category.SPORTS: (
        ("耐克", "P"),
        ("阿迪达斯", "P"),
        ("李宁", "PW"),
        ("安踏", "W"),
        ("迪卡侬", "W"),
        ("始祖鸟", "P"),
    ),
    Category.SERVICES: (
        ("宝岛眼镜", "PW"),
        ("星剪快剪", "PW"),
        ("洁衣坊干洗", "W"),
        ("顺丰速运", "P"),
        ("指尖艺术美甲", "W"),
    ),
    Category.ELECTRONICS: (
        ("华为", "PW"),
        ("小米之家", "PW"),
        ("苹果授权专营店", "P"),
        ("vivo", "W"),
        ("大疆", "P"),
    ),
    Category.JEWELRY: (
        ("周大福", "PW"),
        ("老凤祥", "W"),
        ("周生生", "P"),
        ("潘多拉", "P"),
        ("亨得利钟表", "P"),
    ),
    Category.HOME: (
        ("名创优品", "PW"),
        ("无印良品", "P"),
        ("网易严选", "P"),
        ("九阳厨电", "W"),
        ("罗莱家纺", "W"),
    ),
    Category.ENTERTAINMENT: (
        ("汤姆熊欢乐世界", "W"),
        ("星聚会 KTV", "P"),
        ("大玩家", "P"),
        ("谜境剧本杀", "W"),
    ),
    Category.EDUCATION: (
        ("新东方", "P"),
        ("杨梅红美术", "W"),
        ("东方启明星篮球", "W"),
        ("英孚教育", "P"),
    ),
}

# Shops that do not fit their category's defaults: (floors, area range in m²).
OVERRIDES: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {
    "喜茶": (("L1", "B1"), (60, 180)),
    "奈雪的茶": (("L1",), (80, 200)),
    "星巴克": (("L1",), (90, 260)),
    "瑞幸咖啡": (("B1", "L1"), (30, 80)),
    "蜜雪冰城": (("B1",), (25, 60)),
    "麦当劳": (("B1", "L1"), (200, 450)),
    "肯德基": (("B1", "L1"), (200, 450)),
    "老街口肠粉王": (("B1",), (40, 90)),
    "Ole' 精品超市": (("B1",), (2500, 4500)),
    "永辉超市": (("B1",), (3500, 6000)),
    "7-Eleven 便利店": (("B1",), (60, 120)),
    "美宜佳便利店": (("B1",), (40, 90)),
    "优衣库": (("L1", "L2"), (1200, 2200)),
    "迪卡侬": (("L3",), (2000, 3500)),
    "顺丰速运": (("B1",), (20, 50)),
}

# The merchant accounts of the demo logins (both in 星河广场).
HEYTEA = (PLAZA, "喜茶")
UNIQLO = (PLAZA, "优衣库")
SUSPENDED = (WORLD, "指尖艺术美甲")  # one suspended shop, so the console has one to show

LEGAL_STEMS = (
    "鑫盛", "恒泰", "宏达", "嘉禾", "瑞丰", "永隆", "金辉", "博雅", "德润", "安和",
    "福鼎", "汇通", "荣昌", "明德", "天成", "卓越", "锦程", "华信", "广源", "星耀",
)  # fmt: skip

# Licence-plate regions (province + issuing-office letter) with weights: mostly Shenzhen (粤B), then the rest of
# Guangdong and the provinces Shenzhen draws people from.
PLATE_REGIONS = (
    ("粤B", 640), ("粤A", 60), ("粤S", 40), ("粤L", 30), ("粤E", 25), ("粤C", 15), ("粤M", 15),
    ("湘A", 25), ("湘L", 15), ("赣A", 15), ("赣B", 10), ("鄂A", 20), ("川A", 15), ("桂A", 15),
    ("闽D", 10), ("豫A", 10), ("京A", 5), ("沪A", 5),
)  # fmt: skip
NEW_ENERGY_SHARE = 0.20

# Mainland mobile prefixes (China Mobile, Unicom, Telecom): every generated number is still checked.
PHONE_PREFIXES = (
    *range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 176, 177, 178,
    *range(180, 190), 198, 199,
)  # fmt: skip

JOIN_CHANNELS = (("app", 45), ("pos", 30), ("desk", 10), ("parking", 10), ("import", 5))


@dataclass(frozen=True)
class StaffSpec:
    username: str
    role: str
    display_name: str
    merchant: tuple[str, str] | None = None  # (mall code, merchant name) for merchant roles


STAFF = (
    StaffSpec("admin", Role.PLATFORM_ADMIN, "平台管理员"),
    StaffSpec("group-admin", Role.GROUP_ADMIN, "集团管理员 林晓"),
    StaffSpec("marketing", Role.MARKETING, "市场部 陈佳怡"),
    StaffSpec("service", Role.SERVICE, "客服中心 王磊"),
    StaffSpec("finance", Role.FINANCE, "财务部 刘静"),
    StaffSpec("viewer", Role.READONLY, "只读账号 赵敏"),
    StaffSpec("heytea-owner", Role.MERCHANT_OWNER, "喜茶 店主 黄志强", HEYTEA),
    StaffSpec("heytea-manager", Role.MERCHANT_MANAGER, "喜茶 店长 吴婷", HEYTEA),
    StaffSpec("heytea-clerk", Role.MERCHANT_CLERK, "喜茶 店员 周杰", HEYTEA),
    StaffSpec("uniqlo-owner", Role.MERCHANT_OWNER, "优衣库 店主 郑雅文", UNIQLO),
)
