"""Demo incidents for `make run`: a dozen calls from the seed document's own situations, taken through
the real services so that the board, inboxes and timelines show every state an incident and an
instruction can be in.

`app/demo.py` calls `seed_demo_incidents(tenant)` inside the demo district's scope, after the unit
teams exist. Idempotent: a district that already has incidents is left alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from sqlalchemy import select

from app.blueprints.catalogue.models import Category
from app.blueprints.incidents import desk, service
from app.blueprints.incidents.models import Incident
from app.blueprints.instructions import service as instructions
from app.blueprints.units.models import Unit
from app.blueprints.users.models import User
from app.common.models import utcnow
from app.extensions import db


@dataclass
class Call:
    """One demo call: what the citizen said, the category the desk chose, and how far the work got."""

    description: str
    address: str
    category: str | None
    caller: tuple[str, str]
    minutes_ago: int
    units: list[str]                       # lead first; police_first adds the police by itself
    story: Callable[["Demo", Incident, dict], None] = lambda demo, incident, issued: None
    area_type: str = "urban"
    severity: str | None = None
    source: str = "phone_110"
    issue: bool = True
    ids: dict = field(default_factory=dict)


class Demo:
    """The people who act in the stories: the desk and each team's liaison."""

    def __init__(self, tenant):
        self.tenant = tenant
        users = {u.username: u for u in db.session.execute(select(User).where(
            User.tenant_id == tenant.id)).unique().scalars()}
        self.desk = users["desk"]
        self.liaison = {short: users[f"{prefix}-liaison"] for prefix, short in (
            ("police", "公安"), ("civil", "民政"), ("water", "建设"), ("lift", "质监"), ("power", "供电"),
            ("gas", "天然气"))}
        self.crew = {short: users[f"{prefix}-crew"] for prefix, short in (
            ("police", "公安"), ("civil", "民政"), ("water", "建设"), ("lift", "质监"), ("power", "供电"),
            ("gas", "天然气"))}
        self.units = {u.short_name: u for u in db.session.execute(select(Unit).where(
            Unit.tenant_id == tenant.id)).scalars()}
        self.categories = {c.name: c for c in db.session.execute(select(Category).where(
            Category.tenant_id == tenant.id, Category.parent_id.is_not(None))).scalars()}

    # The unit's steps, as its liaison (acknowledging, naming the crew) and crew take them.
    def acknowledge(self, row, short):
        instructions.acknowledge(instruction_id=row.id, actor=self.liaison[short],
                                 responder_ids=[self.crew[short].id])

    def arrive(self, row, short, text="已到达现场"):
        instructions.set_out(instruction_id=row.id, actor=self.crew[short])
        instructions.arrive(instruction_id=row.id, actor=self.crew[short], text=text,
                            position={"latitude": 37.9283, "longitude": 102.6387, "accuracy_m": 15})

    def resolve(self, row, short, text="已处置完毕", code="10"):
        instructions.resolve(instruction_id=row.id, actor=self.crew[short], result_code=code, text=text)

    def done(self, row, short, text="已处置完毕"):
        self.acknowledge(row, short)
        self.arrive(row, short)
        self.resolve(row, short, text)


def _closed(demo: Demo, incident, issued):
    for short, row in issued.items():
        demo.done(row, short, {"公安": "现场警戒疏散，排除火源", "天然气": "关阀更换接头，检测无泄漏"}.get(short, "已处置"))
    for row in issued.values():
        instructions.review(instruction_id=row.id, actor=demo.desk, outcome="accepted")
    desk.callback(incident_id=incident.id, actor=demo.desk, satisfaction="satisfied", note="群众对处置满意")
    desk.close(incident_id=incident.id, actor=demo.desk, note="办结")


def _on_scene(demo: Demo, incident, issued):
    for short, row in issued.items():
        demo.acknowledge(row, short)
        demo.arrive(row, short, "已到场，关闭上游阀门" if short == "建设" else "现场警戒")
    instructions.progress(instruction_id=issued["建设"].id, actor=demo.crew["建设"],
                          text="抢修队开挖作业中，预计两小时恢复供水")


def _en_route(demo: Demo, incident, issued):
    for short, row in issued.items():
        demo.acknowledge(row, short)
        instructions.set_out(instruction_id=row.id, actor=demo.crew[short])


def _awaiting_review(demo: Demo, incident, issued):
    for short, row in issued.items():
        demo.done(row, short, "断线已接续，恢复供电" if short == "供电" else "现场警戒完毕")


def _returned(demo: Demo, incident, issued):
    instructions.return_(instruction_id=issued["民政"].id, actor=demo.liaison["民政"],
                         reason="当事人醉酒滋事，属公安处置范围，请改派公安")


def _false_report(demo: Demo, incident, issued):
    desk.cancel(incident_id=incident.id, actor=demo.desk, reason="回拨核实：儿童拨打，误报")


def _redo(demo: Demo, incident, issued):
    demo.done(issued["供电"], "供电", "已更换保险")
    instructions.review(instruction_id=issued["供电"].id, actor=demo.desk, outcome="accepted")
    desk.callback(incident_id=incident.id, actor=demo.desk, satisfaction="dissatisfied",
                  note="群众反映当晚再次停电，问题未解决")


def _extension(demo: Demo, incident, issued):
    row = issued["天然气"]
    demo.acknowledge(row, "天然气")
    demo.arrive(row, "天然气", "调压箱故障，需更换调压器")
    current = db.session.get(type(row), (row.tenant_id, row.id))
    instructions.request_extension(instruction_id=row.id, actor=demo.liaison["天然气"],
                                   reason="调压器需从兰州调货，预计三天到货",
                                   resolve_by=current.resolve_by + timedelta(days=3))


def _police_acknowledged(demo: Demo, incident, issued):
    demo.acknowledge(issued["公安"], "公安")  # 安监 has not acknowledged yet


CALLS = [
    Call("我家楼道里一股煤气味，呛得很，怕是漏气了", "凉州区南关西路幸福小区3号楼2单元", "燃气泄漏",
         ("张桂兰", "13893512345"), 300, ["天然气"], _closed),
    Call("东大街十字路口自来水管爆了，水冒得一人多高，路上全是水", "凉州区东大街与北关什字交叉口", "供水管道爆裂",
         ("李强", "13993567890"), 95, ["建设"], _on_scene),
    Call("东大街那个地方水管子爆了，水淹到人行道上了", "凉州区东大街北关什字", "供水管道爆裂",
         ("王秀英", "13609351122"), 90, [], issue=False),
    Call("商场电梯卡在三楼和四楼中间了，里面有个老人和一个娃娃", "凉州区新华商厦东侧电梯", "电梯困人",
         ("赵敏", "15109351234"), 25, ["质监"], _en_route),
    Call("风把电线杆刮倒了，电线耷拉在路边，冒火星子", "凉州区金羊镇宏寺村三组", "电线断落与电杆倾倒",
         ("马建国", "18793501234"), 180, ["供电"], _awaiting_review, area_type="rural"),
    Call("火车站广场有个老人坐了一天了，问他家在哪说不清楚", "凉州区火车站广场", "迷路老人与走失人员",
         ("刘洋", "13519351111"), 15, ["民政"], severity="urgent"),
    Call("桥洞下面有个人喝醉了躺着，天冷怕冻坏了", "凉州区海藏路桥洞", "流浪乞讨人员救助",
         ("孙丽", "13830561234"), 70, ["民政"], _returned),
    Call("饭馆吃了一碗面收我八十块，菜单上没写价钱", "凉州区北大街美食城", "价格争议纠纷",
         ("周杰", "15293561234"), 40, ["物价"]),  # issued, waiting for 物价 to acknowledge
    Call("（无人说话，背景有小孩笑声）", "凉州区西关街", None,
         ("", "13700000000"), 60, ["公安"], _false_report),
    Call("我们这一片三天停了四次电了，冰箱里的东西都坏了", "凉州区荣华小区", "停电与用电故障",
         ("何芳", "13919351234"), 600, ["供电"], _redo),
    Call("小区调压箱坏了，整栋楼没有燃气，做不成饭", "凉州区祁连大道天润小区", "燃气停气与设施故障",
         ("高伟", "18009351234"), 240, ["天然气"], _extension),
    Call("化工厂那边有刺鼻的黄烟飘过来，好多人眼睛辣得睁不开", "凉州区工业园区武南路", "危险化学品与烟花爆竹事故",
         ("郭涛", "13993501111"), 10, ["安监"], _police_acknowledged, severity="major", area_type="suburban"),
]


def seed_demo_incidents(tenant) -> int:
    """Record the demo calls and play their stories; returns how many incidents were made (0 if done before)."""
    if db.session.execute(select(Incident.id).where(Incident.tenant_id == tenant.id).limit(1)).first():
        return 0
    demo = Demo(tenant)
    now = utcnow()
    made: dict[str, Incident] = {}
    for call in CALLS:
        category = demo.categories[call.category] if call.category else None
        incident = service.intake(
            tenant=tenant, actor=demo.desk, source=call.source, description=call.description,
            address=call.address, area_type=call.area_type, received_at=now - timedelta(minutes=call.minutes_ago),
            caller_name=call.caller[0] or None, caller_phone=call.caller[1], category_id=category.id if category else None,
            severity=call.severity)["incident"]
        issued = {}
        if call.issue:
            rows = instructions.issue(incident_id=incident.id, actor=demo.desk, instructions=[
                {"unit_id": demo.units[short].id, "role": "lead" if i == 0 else "assist", "note": "请速处置"}
                for i, short in enumerate(call.units)])
            by_id = {unit.id: short for short, unit in demo.units.items()}
            issued = {by_id[row.unit_id]: row for row in rows}
        call.story(demo, incident, issued)
        if call.category:
            made.setdefault(call.category, incident)
        if call.category == "供水管道爆裂" and not call.issue:
            # The repeat call about the burst main was recorded separately: the desk merges it (并案).
            desk.merge(incident_id=incident.id, actor=demo.desk, into_incident_id=made["供水管道爆裂"].id,
                       note="同一爆管，重复接警")
    return len(CALLS)
