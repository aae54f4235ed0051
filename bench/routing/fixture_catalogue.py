"""A small catalogue of our own, for unit tests and as the seed of the synthetic latency catalogue.

Deliberately not the Liangzhou template (another team owns that and it changes): a dozen
level-2 categories across ten units, written the way a linkage office would.
"""
from __future__ import annotations

# (short name, name)
UNITS = [
    ("公安", "区公安局"), ("民政", "区民政局"), ("卫计", "区卫计局"), ("建设", "区建设局"),
    ("天然气", "区天然气公司"), ("供电", "区供电公司"), ("质监", "区质监局"), ("市政", "区市政局"),
    ("城市执法", "区城市执法局"), ("电信", "区电信分公司"),
]

# level-1 name -> [(code, name, lead, assists, route, severity, keywords, description)]
CATEGORIES = {
    "治安刑事": [
        ("A01", "打架斗殴", "公安", [], "police", "urgent", ["打架", "斗殴", "打人"], "人员之间发生殴打、互殴"),
        ("A02", "盗窃", "公安", [], "police", "general", ["被盗", "偷", "小偷"], "财物被盗窃"),
    ],
    "民政救助": [
        ("B01", "走失人员", "民政", ["公安"], "police_first", "urgent", ["走失", "走丢", "迷路"],
         "老人、儿童、智力障碍人员走失，需要查找、收留与安置"),
        ("B02", "流浪乞讨", "民政", [], "direct", "general", ["流浪", "乞讨", "露宿"],
         "生活无着落的流浪乞讨人员需要救助"),
    ],
    "医疗急救": [
        ("C01", "急危重病人", "卫计", [], "direct", "urgent", ["晕倒", "昏迷", "急救", "受伤"],
         "突发疾病或受伤需要急救治疗，派救护车"),
    ],
    "城市设施": [
        ("D01", "供水故障", "建设", [], "direct", "general", ["停水", "水管爆裂", "漏水", "水压"],
         "供水管网漏水、爆裂，水压不足，不明原因停水"),
        ("D02", "燃气泄漏", "天然气", ["建设", "公安"], "police_first", "major", ["燃气", "天然气", "漏气", "煤气"],
         "天然气管道破裂、燃气泄漏，液化气泄漏"),
        ("D03", "停电", "供电", [], "direct", "general", ["停电", "没电", "跳闸"], "用电故障、线路停电"),
        ("D04", "电线断落", "供电", ["公安"], "police_first", "urgent", ["电线", "电线杆", "倒杆", "断线"],
         "断线、倒杆等危及人员生命财产安全的电力设备故障"),
        ("D05", "电梯困人", "质监", ["公安"], "police_first", "urgent", ["电梯", "困人", "电梯困人"],
         "电梯故障有人被困，需要救援"),
        ("D06", "树木倒伏", "市政", [], "direct", "general", ["树倒", "树枝", "倒伏"],
         "树木倾倒、断裂，危及行人、妨碍道路交通"),
        ("D07", "井盖缺失", "市政", [], "direct", "general", ["井盖", "窨井"], "市政设施损坏，井盖丢失破损"),
    ],
    "市容执法": [
        ("E01", "占道经营", "城市执法", [], "direct", "general", ["占道", "摆摊", "小贩"],
         "无照流动商贩、占道经营、店外经营"),
    ],
    "通信": [
        ("F01", "通信故障", "电信", [], "direct", "general", ["电话", "宽带", "光缆", "断网"],
         "电话、宽带通信故障，通信电缆光缆损坏"),
    ],
}


def docs(unit_ids: dict[str, int] | None = None, *, start_id: int = 1):
    """The fixture as engine documents, with made-up ids unless real unit ids are given."""
    from app.blueprints.routing.engine import CategoryDoc

    unit_ids = unit_ids or {short: i for i, (short, _) in enumerate(UNITS, start=1)}
    names = dict(UNITS)
    unit = lambda short: {"id": unit_ids[short], "name": names[short], "short_name": short}  # noqa: E731
    result, next_id = [], start_id
    for parent_index, (parent_name, rows) in enumerate(CATEGORIES.items(), start=1):
        parent = {"id": 1000 + parent_index, "code": rows[0][0][0], "name": parent_name}
        for code, name, lead, assists, route, severity, keywords, description in rows:
            result.append(CategoryDoc(id=next_id, code=code, name=name, route=route, severity=severity,
                                      description=description, keywords=keywords, parent=parent,
                                      lead_unit=unit(lead), assisting_units=[unit(a) for a in assists]))
            next_id += 1
    return result


def install(tenant_id: int) -> dict[str, int]:
    """Create the fixture's units and categories in a tenant (inside the caller's transaction and scope).

    Units the tenant already has (by short name) are reused. Returns short name -> unit id.
    """
    from sqlalchemy import select

    from app.blueprints.catalogue.models import Category, CategoryAssist
    from app.blueprints.units.models import Unit
    from app.extensions import db

    existing = {u.short_name: u for u in db.session.execute(select(Unit)).scalars()}
    for index, (short, name) in enumerate(UNITS, start=100):
        if short not in existing:
            existing[short] = Unit(tenant_id=tenant_id, name=name, short_name=short, duty_class="emergency",
                                   kind="police" if short == "公安" else "linkage", sort_order=index,
                                   is_active=True)
            db.session.add(existing[short])
    db.session.flush()
    for parent_index, (parent_name, rows) in enumerate(CATEGORIES.items(), start=1):
        parent = Category(tenant_id=tenant_id, code=f"FX{parent_index:02d}", name=parent_name, description="",
                          keywords=[], route="direct", severity="general")
        db.session.add(parent)
        db.session.flush()
        for code, name, lead, assists, route, severity, keywords, description in rows:
            category = Category(tenant_id=tenant_id, parent_id=parent.id, code=f"FX{code}", name=name,
                                description=description, keywords=keywords, lead_unit_id=existing[lead].id,
                                route=route, severity=severity)
            category.assists = [CategoryAssist(tenant_id=tenant_id, unit_id=existing[a].id) for a in assists]
            db.session.add(category)
    db.session.flush()
    return {short: unit.id for short, unit in existing.items()}
