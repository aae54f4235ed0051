"""The Liangzhou template: the linkage units of the 凉州区 110 linkage rules (2017), Article 7.

Duty classes follow Article 12: units with rescue duties keep 24-hour teams
(emergency); units named there as non-emergency keep a phone on duty (standard);
the rest send people when instructed (other). The catalogue issue adds each
unit's numbered responsibilities and the categories that route to it.
"""
from __future__ import annotations

from app.blueprints.units.models import DutyClass, Unit
from app.extensions import db

E, S, O = DutyClass.EMERGENCY, DutyClass.STANDARD, DutyClass.OTHER

# (name, short name, duty class, is_police) in the order of Article 7.
UNITS: list[tuple[str, str, DutyClass, bool]] = [
    ("区公安局", "公安", E, True),
    ("区督查办", "督查办", O, False),
    ("区民政局", "民政", S, False),
    ("区物价局", "物价", O, False),
    ("区城市执法局", "城市执法", O, False),
    ("区卫计局", "卫计", E, False),
    ("区国土资源局", "国土", O, False),
    ("区安监局", "安监", O, False),
    ("区食品药品监督管理局", "食药监", O, False),
    ("区工商局", "工商", S, False),
    ("区人社局", "人社", O, False),
    ("区环保局", "环保", S, False),
    ("区教育局", "教育", O, False),
    ("区建设局", "建设", E, False),
    ("区旅游局", "旅游", S, False),
    ("区交通局", "交通", O, False),
    ("区运管局", "运管", O, False),
    ("区农牧局", "农牧", O, False),
    ("区畜牧兽医局", "畜牧兽医", O, False),
    ("区水务局", "水务", S, False),
    ("区林业局", "林业", S, False),
    ("区文广局", "文广", O, False),
    ("区商务局", "商务", S, False),
    ("区质监局", "质监", E, False),
    ("区市政局", "市政", E, False),
    ("区供电公司", "供电", E, False),
    ("区电信、移动、联通分公司", "通信", E, False),
    ("各天然气公司", "天然气", E, False),
    ("其他单位", "其他", O, False),
]


def apply(tenant) -> list[Unit]:
    units = [Unit(tenant_id=tenant.id, name=name, short_name=short, duty_class=duty.value,
                  kind="police" if is_police else "linkage", is_active=True, sort_order=index)
             for index, (name, short, duty, is_police) in enumerate(UNITS, start=1)]
    db.session.add_all(units)
    db.session.flush()
    return units
