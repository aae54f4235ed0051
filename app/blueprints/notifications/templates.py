"""Message texts, Chinese first with English: what is late, by how much, where, and a link.

Times are shown in the tenant's zone (design.md: convert only at the edges).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

STEP_WORDS = {
    "warning": ("预警", "Warning"),
    "yellow": ("催办", "Urge"),
    "red": ("督办", "Supervision"),
    "leadership": ("领导督办", "Leadership supervision"),
    "urge": ("催办", "Urge"),
}
CLOCK_WORDS = {
    "acknowledge": ("签收", "acknowledgement"),
    "arrive": ("到场", "arrival"),
    "resolve": ("办结", "resolution"),
}


def duration(seconds: float) -> tuple[str, str]:
    """A whole-minute duration in both languages: (1小时5分钟, 1 h 5 min); under a minute is 不足1分钟."""
    minutes = int(abs(seconds) // 60)
    if minutes == 0:
        return "不足1分钟", "under 1 min"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    zh = "".join(part for part in (f"{days}天" if days else "", f"{hours}小时" if hours else "",
                                   f"{mins}分钟" if mins else "") if part)
    en = " ".join(part for part in (f"{days} d" if days else "", f"{hours} h" if hours else "",
                                    f"{mins} min" if mins else "") if part)
    return zh, en


@dataclass(frozen=True)
class Context:
    number: str
    category: str
    address: str
    unit: str
    link: str
    time_zone: str


def instruction_link(base_url: str, tenant_code: str, instruction_id: int) -> str:
    return f"{base_url}/t/{tenant_code}/instructions/{instruction_id}"


def _local(at: datetime, time_zone: str) -> str:
    return at.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")


def _facts(ctx: Context) -> list[str]:
    return [f"警情编号 Incident: {ctx.number}",
            f"类别 Category: {ctx.category or '未分类 uncategorised'}",
            f"地址 Address: {ctx.address or '-'}",
            f"承办单位 Unit: {ctx.unit}"]


def reminder(ctx: Context, *, step: str, clock: str, deadline: datetime, now: datetime) -> tuple[str, str]:
    """(title, body) of an escalation step of one clock."""
    step_zh, step_en = STEP_WORDS[step]
    clock_zh, clock_en = CLOCK_WORDS[clock]
    gap_zh, gap_en = duration((now - deadline).total_seconds())
    if now < deadline:
        state_zh, state_en = f"{clock_zh}将于{gap_zh}后到期", f"{clock_en} due in {gap_en}"
    elif (now - deadline).total_seconds() < 60:
        state_zh, state_en = f"{clock_zh}已到时限", f"{clock_en} deadline reached"
    else:
        state_zh, state_en = f"{clock_zh}已超时{gap_zh}", f"{clock_en} overdue by {gap_en}"
    title = f"【{step_zh}】{ctx.number} {state_zh} / [{step_en}] {ctx.number}: {state_en}"
    body = "\n".join([f"{state_zh}（时限 {_local(deadline, ctx.time_zone)}）",
                      f"{state_en} (deadline {_local(deadline, ctx.time_zone)} {ctx.time_zone})",
                      *_facts(ctx), f"查看指令 Open: {ctx.link}"])
    return title[:200], body


def manual_urge(ctx: Context, *, note: str, state: str) -> tuple[str, str]:
    """(title, body) of the desk's 催办."""
    title = f"【催办】{ctx.number} 请加快处置 / [Urge] {ctx.number}: please speed up"
    lines = [f"指挥中心催办（指令状态 {state}） / The desk urges this instruction (state {state})."]
    if note:
        lines.append(f"催办说明 Note: {note}")
    return title[:200], "\n".join([*lines, *_facts(ctx), f"查看指令 Open: {ctx.link}"])


ROLE_WORDS = {"lead": ("主办", "lead"), "assist": ("协办", "assisting")}


def new_instruction(ctx: Context, *, role: str, note: str, acknowledge_by: datetime | None,
                    arrive_by: datetime | None) -> tuple[str, str]:
    """(title, body) of the 通知 itself: a unit is given an instruction and must acknowledge it."""
    role_zh, role_en = ROLE_WORDS.get(role, (role, role))
    title = f"【新指令】{ctx.number} {ctx.category or ''}（{role_zh}）请签收 / [New instruction] {ctx.number} ({role_en}): acknowledge"
    lines = [f"指挥中心下达指令（{role_zh}），请及时签收并处置。 / The desk instructs your unit ({role_en})."]
    if acknowledge_by is not None:
        lines.append(f"签收时限 Acknowledge by: {_local(acknowledge_by, ctx.time_zone)} ({ctx.time_zone})")
    if arrive_by is not None:
        lines.append(f"到场时限 Arrive by: {_local(arrive_by, ctx.time_zone)} ({ctx.time_zone})")
    if note:
        lines.append(f"指令说明 Note: {note}")
    return title[:200], "\n".join([*lines, *_facts(ctx), f"查看指令 Open: {ctx.link}"])
