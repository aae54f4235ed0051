"""Past incidents for the lifecycle benchmark, loaded set-based (INSERT ... SELECT generate_series) as the owner.

What a district with ~900 calls a day accumulates in three years (--incidents over --years):
- one incident per call, numbered `<code>-<yyyymmdd>-<serial>` by the district's local day, the
  daily counters advanced to the last serial of each day (today's too), so new intakes continue;
- descriptions: a caller's words (the routing benchmark's labelled call texts) plus two detail
  phrases; addresses: a town or street of 凉州区, a road and a house number; the `search_vector`
  is the union of the pieces' grams, each piece's grams computed by `app.blueprints.incidents.text.grams`
  (exactly what `text.search_vector(description, address)` stores: grams never cross the `，`
  or the digits that separate pieces; a sample is re-checked against the app's function);
- category drawn with a skew over the template's level-2 categories; lead instruction to its lead
  unit, a second one (police first response on `police_first`, else the first assisting unit, else
  the police) so that instructions per incident average `INSTRUCTIONS_PER_INCIDENT`;
- every incident runs its lifecycle (issue, acknowledge, arrive when a site visit is needed,
  resolve, callback, close) on a clock; its state is wherever "now" falls in it, so the last
  hours hold open and resolved incidents like a live desk; `STUCK` of them stopped mid-way long
  ago (the overdue ones on the board); `CANCELLED` are false reports (half after an instruction),
  `MERGED` joined the previous incident;
- the timeline rows, feedback (arrival, result) and named responders those steps write.
Not loaded: audit events (a hash chain; the live run appends to a short chain) and routing examples.
"""
from __future__ import annotations

import random
import time
from datetime import timedelta

from sqlalchemy import text

from bench.incidents import common

INSTRUCTIONS_PER_INCIDENT = 1.3
CANCELLED = 0.04
MERGED = 0.005
STUCK = 0.0005
ZIPF = 0.9  # category popularity: weight 1/rank^ZIPF over a fixed shuffle
BUCKETS = 10_000

TOWNS = ["东大街街道", "西大街街道", "东关街街道", "西关街街道", "地质新村街道", "火车站街道", "荣华街道",
         "宣武街街道", "黄羊镇", "武南镇", "清源镇", "永昌镇", "双城镇", "丰乐镇", "高坝镇", "金羊镇",
         "和平镇", "羊下坝镇", "中坝镇", "永丰镇", "古城镇", "张义镇", "发放镇", "西营镇", "四坝镇",
         "洪祥镇", "谢河镇", "金沙镇", "松树镇", "怀安镇", "下双镇", "清水镇", "河东镇", "五和镇",
         "长城镇", "吴家井镇", "金河镇", "韩佐镇", "大柳镇", "柏树镇"]
ROADS = ["南大街", "北关中路", "东环路", "西郊路", "祁连大道", "天马路", "海藏路", "宣武街", "新华路",
         "建设巷", "校东路", "南关东路", "西关什字", "北大街", "东小南街", "和平街", "雷台路", "滨河路",
         "富民路", "平凉街", "丽水华庭小区", "天祝路", "文化街", "马莲滩村", "红星村", "新关村", "光明小区",
         "金阳小区", "怡和园小区", "中心广场"]
DETAILS = ["现场有老人和小孩", "请尽快派人处理", "已经持续两个多小时了", "周围很多群众围观", "报警人情绪激动",
           "打了好几次电话都没人管", "楼道里全是水", "晚上一直睡不着", "怕出事故", "家里老人身体不好",
           "路过的车辆很多", "附近是学校", "旁边就是菜市场", "物业说管不了", "社区让打110",
           "已经报过一次了", "对方态度很差", "天黑看不清楚", "下雨天更严重", "味道特别大",
           "声音很大影响休息", "孩子吓得直哭", "邻居也都反映过", "电话一直打不通", "门口停满了车",
           "地上有碎玻璃", "有人受了轻伤", "暂时没有人员受伤", "需要专业人员来看", "损失还不清楚",
           "单元门坏了", "小区没有物业", "在路口东边", "靠近加油站", "就在公交站旁边",
           "院子里积了很深的水", "村委会联系不上", "是外地来的", "要求给个说法", "希望尽快回复"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
RESULT_TEXTS = ["已到现场处置完毕", "已抢修完毕，恢复正常", "已调解，双方达成一致", "已救助并送回家中",
                "已移交相关部门处理", "现场查看无异常", "已临时处置，明日复查"]
RESULT_CODES = ["10", "12", "11", "13", "20", "40", "30"]


def grams(value: str) -> list[str]:
    from app.blueprints.incidents.text import grams as app_grams

    return sorted(app_grams(value))


def call_texts() -> list[str]:
    """The callers' words of the routing benchmark's call files (bench/routing/*_calls.toml), in file order."""
    import tomllib
    from pathlib import Path

    texts = []
    for path in sorted((Path(__file__).parent.parent / "routing").glob("*_calls.toml")):
        for call in tomllib.loads(path.read_text(encoding="utf-8")).get("call", []):
            texts.append(call["text"].strip().rstrip("。！？!?，,"))
    return texts


def _pool(connection, table: str, values: list[str]) -> None:
    connection.execute(text(f"CREATE TEMP TABLE {table} (idx int PRIMARY KEY, value text, vec tsvector)"))
    connection.execute(text(f"INSERT INTO {table} VALUES (:idx, :value, array_to_tsvector(CAST(:lexemes AS text[])))"),
                       [{"idx": i, "value": v, "lexemes": grams(v)} for i, v in enumerate(values)])


def category_buckets(connection, tenant_id: int, police_id: int) -> tuple[list[dict], float]:
    """BUCKETS rows mapping a uniform draw to a category with Zipf-like popularity; the probability
    that an incident whose category allows a second unit gets one, for INSTRUCTIONS_PER_INCIDENT."""
    rows = connection.execute(text(
        "SELECT c.id, c.lead_unit_id, c.route, c.severity, c.needs_site_visit, "
        "(SELECT min(a.unit_id) FROM category_assists a WHERE a.category_id = c.id) AS assist "
        "FROM categories c WHERE c.tenant_id = :t AND c.parent_id IS NOT NULL AND c.is_active ORDER BY c.id"),
        {"t": tenant_id}).mappings().all()
    rows = [dict(row) for row in rows]
    random.Random(2026).shuffle(rows)
    weights = [1 / (rank + 1) ** ZIPF for rank in range(len(rows))]
    total = sum(weights)
    buckets, acc, k = [], 0.0, 0
    for row, weight in zip(rows, weights):
        lead = police_id if row["route"] == "police" else row["lead_unit_id"]
        # The second unit: police first response on police_first; on the direct route the category's
        # assisting unit, else the police (who often go along to linkage calls); none on route police.
        second = (None if row["route"] == "police" or lead == police_id
                  else row["assist"] if row["route"] == "direct" and row["assist"] not in (None, lead)
                  else police_id)
        acc += weight / total
        while k < BUCKETS and (k + 0.5) / BUCKETS <= acc:
            buckets.append({"b": k, "category_id": row["id"], "lead": lead, "second": second,
                            "route": row["route"], "severity": row["severity"], "visit": row["needs_site_visit"]})
            k += 1
    while k < BUCKETS:
        buckets.append({**buckets[-1], "b": k})
        k += 1
    share = sum(1 for b in buckets if b["second"] is not None) / BUCKETS
    # Lead instructions: every normal incident and half the cancelled ones; second ones: normal only.
    with_lead, normal = 1 - MERGED - CANCELLED / 2, 1 - MERGED - CANCELLED
    probability = min(1.0, (INSTRUCTIONS_PER_INCIDENT - with_lead) / (normal * share)) if share else 0.0
    return buckets, probability


# The plan: one row per incident with every draw and the whole lifecycle on a clock. `cut` is the
# moment the incident's story stops: now, or, for a stuck one, somewhere before its resolution.
PLAN_SQL = """
CREATE UNLOGGED TABLE bench_plan AS
WITH g AS (
  SELECT i, :start + ((i - 1) + random()) * :step AS received_at,
         floor(random() * :buckets)::int AS bucket, random() AS r_second, random() AS r_kind,
         random() AS r_stuck, random() AS r_cut, random() AS r_src, random() AS r_geo, random() AS r_sat,
         floor(random() * :n_text)::int AS text_idx, floor(random() * :n_detail)::int AS d1,
         floor(random() * :n_detail)::int AS d2, floor(random() * :n_place)::int AS place_idx,
         1 + floor(random() * 300)::int AS house, floor(random() * 7)::int AS result_idx,
         random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5
  FROM generate_series(1, :n) AS i
), t AS (
  SELECT g.*, b.category_id, b.lead_unit_id AS lead_unit, b.route, b.severity, b.visit,
         CASE WHEN b.second_unit_id IS NOT NULL AND g.r_second < :p_second THEN b.second_unit_id END AS second_unit,
         CASE WHEN g.r_kind < :cancelled THEN 'cancelled'
              WHEN g.r_kind < :cancelled + :merged AND g.i > 1 THEN 'merged'
              WHEN g.r_stuck < :stuck THEN 'stuck' ELSE 'normal' END AS kind,
         g.received_at + (2 + g.r1 * 3) * interval '1 minute' AS issued_at
  FROM g JOIN bench_buckets b ON b.b = g.bucket
), c AS (
  SELECT t.*,
         issued_at + (1 + r2 * 19) * interval '1 minute' AS ack_at,
         CASE WHEN visit THEN issued_at + (1 + r2 * 19 + 10 + r3 * 50) * interval '1 minute' END AS arrive_at,
         issued_at + (1 + r2 * 19 + CASE WHEN visit THEN 10 + r3 * 50 ELSE 0 END + 20 + r4 * 220)
           * interval '1 minute' AS resolve_at
  FROM t
), d AS (
  SELECT c.*,
         resolve_at + (1 + r5 * 23) * interval '1 hour' AS callback_at,
         resolve_at + (1 + r5 * 23) * interval '1 hour' + interval '10 minutes' AS closed_at,
         CASE kind WHEN 'stuck' THEN issued_at + r_cut * (resolve_at - issued_at - interval '1 minute')
                   WHEN 'cancelled' THEN least(issued_at + (1 + r2 * 30) * interval '1 minute', :now)
                   WHEN 'merged' THEN received_at + interval '2 minutes'
                   ELSE :now END AS cut
  FROM c
)
SELECT d.*,
       -- whether (and how far) the lead and second instructions got before the cut
       CASE WHEN kind = 'merged' OR (kind = 'cancelled' AND r_cut >= 0.5) OR issued_at > cut THEN NULL
            WHEN kind = 'cancelled' THEN 'cancelled'
            WHEN resolve_at <= cut THEN 'resolved' WHEN arrive_at <= cut THEN 'on_scene'
            WHEN ack_at <= cut THEN 'acknowledged' ELSE 'issued' END AS lead_state,
       CASE WHEN second_unit IS NULL OR kind IN ('merged', 'cancelled') OR issued_at > cut THEN NULL
            WHEN resolve_at - interval '5 minutes' <= cut THEN 'resolved'
            WHEN arrive_at + interval '2 minutes' <= cut THEN 'on_scene'
            WHEN ack_at + interval '1 minute' <= cut THEN 'acknowledged' ELSE 'issued' END AS second_state,
       CASE kind WHEN 'cancelled' THEN 'cancelled' WHEN 'merged' THEN 'merged' WHEN 'stuck' THEN 'open'
            ELSE CASE WHEN closed_at <= cut THEN 'closed' WHEN resolve_at <= cut THEN 'resolved' ELSE 'open' END
       END AS state,
       (timezone(:tz, received_at))::date AS local_day
FROM d
"""

INCIDENTS_SQL = """
INSERT INTO incidents (tenant_id, id, number, source, received_at, caller_name, caller_phone, address, area_type,
  latitude, longitude, location_accuracy_m, description, category_id, severity, route, state, merged_into_id,
  merged_at, merged_by_user_id, version, created_by_user_id, resolved_at, closed_at, cancelled_at, cancel_reason,
  satisfaction, callback_note, callback_at, search_vector, created_at, updated_at)
SELECT :tenant, p.i,
  :code || '-' || to_char(p.local_day, 'YYYYMMDD') || '-'
    || lpad((row_number() OVER (PARTITION BY p.local_day ORDER BY p.i))::text, 4, '0'),
  CASE WHEN p.r_src < 0.86 THEN 'phone_110' WHEN p.r_src < 0.95 THEN 'transfer_12345'
       WHEN p.r_src < 0.98 THEN 'online' WHEN p.r_src < 0.995 THEN 'sms' ELSE 'walk_in' END,
  p.received_at,
  CASE WHEN p.r_src < 0.9 THEN substr(:surnames, 1 + (p.i % length(:surnames))::int, 1)
       || CASE WHEN p.i % 2 = 0 THEN '先生' ELSE '女士' END END,
  CASE WHEN p.r_src < 0.97 THEN '1' || (3 + p.i % 7)::text || lpad(((p.i::bigint * 7919) % 1000000000)::text, 9, '0') END,
  pl.value || p.house || '号',
  CASE WHEN pl.value LIKE '%街道%' THEN 'urban' WHEN p.r_geo < 0.5 THEN 'suburban' ELSE 'rural' END,
  CASE WHEN p.r_geo < 0.7 THEN round((37.93 + (p.r1 - 0.5) * 0.6)::numeric, 6) END,
  CASE WHEN p.r_geo < 0.7 THEN round((102.64 + (p.r2 - 0.5) * 0.6)::numeric, 6) END,
  CASE WHEN p.r_geo < 0.7 THEN (5 + p.r3 * 200)::int END,
  tx.value || '，' || d1.value || '，' || d2.value,
  p.category_id, p.severity, p.route, p.state,
  CASE WHEN p.state = 'merged' THEN p.i - 1 END,
  CASE WHEN p.state = 'merged' THEN p.cut END,
  CASE WHEN p.state = 'merged' THEN :desk END,
  CASE p.state WHEN 'closed' THEN 3 WHEN 'resolved' THEN CASE WHEN p.callback_at <= p.cut THEN 3 ELSE 2 END
               WHEN 'cancelled' THEN 2 WHEN 'merged' THEN 2 ELSE 1 END,
  :desk,
  CASE WHEN p.state IN ('resolved', 'closed') THEN p.resolve_at END,
  CASE WHEN p.state = 'closed' THEN p.closed_at END,
  CASE WHEN p.state = 'cancelled' THEN p.cut END,
  CASE WHEN p.state = 'cancelled' THEN '误报：报警人称已自行解决' END,
  CASE WHEN p.state IN ('resolved', 'closed') AND p.callback_at <= p.cut
       THEN CASE WHEN p.r_sat < 0.92 THEN 'satisfied' ELSE 'basically_satisfied' END END,
  CASE WHEN p.state IN ('resolved', 'closed') AND p.callback_at <= p.cut THEN '' END,
  CASE WHEN p.state IN ('resolved', 'closed') AND p.callback_at <= p.cut THEN p.callback_at END,
  tx.vec || d1.vec || d2.vec || pl.vec || array_to_tsvector(ARRAY[p.house::text, '号']),
  p.received_at,
  CASE p.state WHEN 'closed' THEN p.closed_at WHEN 'cancelled' THEN p.cut WHEN 'merged' THEN p.cut
               WHEN 'resolved' THEN least(p.callback_at, p.cut) ELSE p.received_at END
FROM bench_plan p
JOIN bench_texts tx ON tx.idx = p.text_idx
JOIN bench_details d1 ON d1.idx = p.d1
JOIN bench_details d2 ON d2.idx = p.d2
JOIN bench_places pl ON pl.idx = p.place_idx
"""

# One row per instruction: slot 0 the lead, slot 1 the second unit. Ids 2i-1 and 2i keep id order = time order.
INSTRUCTION_ROWS = """
SELECT p.*, s.slot, s.unit_id, s.state AS i_state,
       2 * p.i - 1 + s.slot AS instruction_id,
       s.off_ack, s.off_arrive, s.off_resolve
FROM bench_plan p
CROSS JOIN LATERAL (VALUES
  (0, p.lead_unit, p.lead_state, interval '0', interval '0', interval '0'),
  (1, p.second_unit, p.second_state, interval '1 minute', interval '2 minutes', interval '-5 minutes')
) AS s(slot, unit_id, state, off_ack, off_arrive, off_resolve)
WHERE s.state IS NOT NULL
"""

INSTRUCTIONS_SQL = f"""
INSERT INTO instructions (tenant_id, id, incident_id, unit_id, role, note, state, version, needs_site_visit,
  issued_at, issued_by_user_id, acknowledged_at, acknowledged_by_user_id, arrived_at, arrived_by_user_id,
  resolved_at, resolved_by_user_id, cancelled_at, cancelled_by_user_id, redo_count,
  acknowledge_by, arrive_by, resolve_by, result_code, result_text, is_overruled_return, created_at, updated_at)
SELECT :tenant, r.instruction_id, r.i, r.unit_id,
  CASE WHEN r.slot = 0 THEN 'lead' ELSE 'assist' END,
  CASE WHEN r.slot = 1 AND r.route = 'police_first' THEN '先期处置 (police first response)' ELSE '' END,
  r.i_state,
  CASE r.i_state WHEN 'issued' THEN 1 WHEN 'acknowledged' THEN 2 WHEN 'on_scene' THEN 3
                 WHEN 'cancelled' THEN 2 ELSE CASE WHEN r.visit THEN 4 ELSE 3 END END,
  r.visit, r.issued_at, :desk,
  CASE WHEN r.i_state IN ('acknowledged', 'on_scene', 'resolved') THEN r.ack_at + r.off_ack END,
  CASE WHEN r.i_state IN ('acknowledged', 'on_scene', 'resolved') THEN u.liaison END,
  CASE WHEN r.i_state IN ('on_scene', 'resolved') AND r.visit THEN r.arrive_at + r.off_arrive END,
  CASE WHEN r.i_state IN ('on_scene', 'resolved') AND r.visit THEN u.liaison END,
  CASE WHEN r.i_state = 'resolved' THEN r.resolve_at + r.off_resolve END,
  CASE WHEN r.i_state = 'resolved' THEN u.liaison END,
  CASE WHEN r.i_state = 'cancelled' THEN r.cut END,
  CASE WHEN r.i_state = 'cancelled' THEN :desk END,
  0,
  r.issued_at + CASE WHEN r.severity = 'general' THEN interval '30 minutes' ELSE interval '10 minutes' END,
  CASE WHEN r.visit THEN r.issued_at + interval '60 minutes' END,
  r.issued_at + CASE WHEN r.severity = 'general' THEN interval '24 hours' ELSE interval '4 hours' END,
  CASE WHEN r.i_state = 'resolved' THEN (CAST(:result_codes AS text[]))[1 + r.result_idx] END,
  CASE WHEN r.i_state = 'resolved' THEN (CAST(:result_texts AS text[]))[1 + r.result_idx] END,
  false, r.issued_at,
  coalesce(CASE WHEN r.i_state = 'resolved' THEN r.resolve_at + r.off_resolve END,
           CASE WHEN r.i_state = 'cancelled' THEN r.cut END,
           CASE WHEN r.i_state = 'on_scene' THEN r.arrive_at + r.off_arrive END,
           CASE WHEN r.i_state = 'acknowledged' THEN r.ack_at + r.off_ack END, r.issued_at)
FROM ({INSTRUCTION_ROWS}) r
JOIN bench_unit_users u ON u.unit_id = r.unit_id
"""

RESPONDERS_SQL = f"""
INSERT INTO instruction_responders (tenant_id, instruction_id, user_id, named_at)
SELECT :tenant, r.instruction_id, u.crew, r.ack_at + r.off_ack
FROM ({INSTRUCTION_ROWS}) r JOIN bench_unit_users u ON u.unit_id = r.unit_id
WHERE r.i_state IN ('acknowledged', 'on_scene', 'resolved')
"""

FEEDBACK_SQL = f"""
INSERT INTO instruction_feedback (tenant_id, id, instruction_id, kind, text, author_user_id, at, client_at,
  latitude, longitude, accuracy_m, media_ids)
SELECT :tenant, 2 * r.instruction_id - 1 + f.k, r.instruction_id, f.kind, f.body, u.liaison, f.at,
  f.at - interval '20 seconds', f.lat, f.lon, f.acc, '{{}}'::uuid[]
FROM ({INSTRUCTION_ROWS}) r
JOIN bench_unit_users u ON u.unit_id = r.unit_id
CROSS JOIN LATERAL (VALUES
  (0, 'arrival', '已到达现场，正在查看情况', r.arrive_at + r.off_arrive,
   round((37.93 + (r.r3 - 0.5) * 0.6)::numeric, 6), round((102.64 + (r.r4 - 0.5) * 0.6)::numeric, 6), 15),
  (1, 'result', (CAST(:result_texts AS text[]))[1 + r.result_idx], r.resolve_at + r.off_resolve,
   NULL::numeric, NULL::numeric, NULL::int)
) AS f(k, kind, body, at, lat, lon, acc)
WHERE (f.kind = 'arrival' AND r.visit AND r.i_state IN ('on_scene', 'resolved'))
   OR (f.kind = 'result' AND r.i_state = 'resolved')
"""

# Timeline ids 16i + slot: in time order within the incident, and overall.
TIMELINE_SQL = f"""
INSERT INTO timeline_events (tenant_id, id, incident_id, instruction_id, kind, from_state, to_state, actor_user_id,
  at, client_at, data)
SELECT :tenant, 16 * r.i + e.slot, r.i, r.instruction_id, e.kind, e.from_state, e.to_state, e.actor, e.at,
  e.client_at, e.data
FROM ({INSTRUCTION_ROWS}) r
JOIN bench_unit_users u ON u.unit_id = r.unit_id
CROSS JOIN LATERAL (VALUES
  (0 + r.slot, 'instruction.issued', NULL, 'issued', :desk, r.issued_at, NULL::timestamptz,
   jsonb_build_object('unit_id', r.unit_id, 'role', CASE WHEN r.slot = 0 THEN 'lead' ELSE 'assist' END,
                      'note', '', 'reissue_of_id', NULL)),
  (2 + r.slot, 'instruction.acknowledge', 'issued', 'acknowledged', u.liaison, r.ack_at + r.off_ack,
   r.ack_at + r.off_ack - interval '15 seconds', jsonb_build_object('responder_ids', jsonb_build_array(u.crew))),
  (4 + r.slot, 'instruction.arrive', 'acknowledged', 'on_scene', u.liaison, r.arrive_at + r.off_arrive,
   r.arrive_at + r.off_arrive - interval '20 seconds',
   jsonb_build_object('text', '已到达现场，正在查看情况', 'media_ids', '[]'::jsonb, 'accuracy_m', 15)),
  (7 - r.slot, 'instruction.resolve', CASE WHEN r.visit THEN 'on_scene' ELSE 'acknowledged' END, 'resolved',
   u.liaison, r.resolve_at + r.off_resolve, r.resolve_at + r.off_resolve - interval '20 seconds',
   jsonb_build_object('result_code', (CAST(:result_codes AS text[]))[1 + r.result_idx],
                      'text', (CAST(:result_texts AS text[]))[1 + r.result_idx], 'media_ids', '[]'::jsonb)),
  (10, 'instruction.cancel', 'issued', 'cancelled', :desk, r.cut, NULL, jsonb_build_object('reason', '误报'))
) AS e(slot, kind, from_state, to_state, actor, at, client_at, data)
WHERE (e.kind = 'instruction.issued')
   OR (e.kind = 'instruction.acknowledge' AND r.i_state IN ('acknowledged', 'on_scene', 'resolved'))
   OR (e.kind = 'instruction.arrive' AND r.visit AND r.i_state IN ('on_scene', 'resolved'))
   OR (e.kind = 'instruction.resolve' AND r.i_state = 'resolved')
   OR (e.kind = 'instruction.cancel' AND r.i_state = 'cancelled')
"""

INCIDENT_TIMELINE_SQL = """
INSERT INTO timeline_events (tenant_id, id, incident_id, instruction_id, kind, from_state, to_state, actor_user_id,
  at, client_at, data)
SELECT :tenant, 16 * p.i + e.slot, p.i, NULL, e.kind, e.from_state, e.to_state, :desk, e.at, NULL, e.data
FROM bench_plan p
CROSS JOIN LATERAL (VALUES
  (8, 'incident.callback', 'resolved', 'resolved', p.callback_at,
   jsonb_build_object('satisfaction', CASE WHEN p.r_sat < 0.92 THEN 'satisfied' ELSE 'basically_satisfied' END,
                      'note', '')),
  (9, 'incident.close', 'resolved', 'closed', p.closed_at, jsonb_build_object('note', '')),
  (11, 'incident.cancel', 'open', 'cancelled', p.cut, jsonb_build_object('reason', '误报：报警人称已自行解决'))
) AS e(slot, kind, from_state, to_state, at, data)
WHERE (e.kind = 'incident.callback' AND p.state IN ('resolved', 'closed') AND p.callback_at <= p.cut)
   OR (e.kind = 'incident.close' AND p.state = 'closed')
   OR (e.kind = 'incident.cancel' AND p.state = 'cancelled')
"""

COUNTERS_SQL = """
INSERT INTO incident_counters (tenant_id, day, last_serial)
SELECT :tenant, local_day, count(*) FROM bench_plan GROUP BY local_day
ON CONFLICT (tenant_id, day) DO UPDATE SET last_serial = EXCLUDED.last_serial
"""

BIG_TABLES = ("incidents", "instructions", "instruction_responders", "instruction_feedback", "timeline_events")


def _step(connection, label: str, sql: str, params: dict | None = None) -> int:
    started = time.perf_counter()
    result = connection.execute(text(sql), params or {})
    rows = result.rowcount
    print(f"  {label}: {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    return rows


def load(name: str, state: dict, *, incidents: int, years: float) -> dict:
    """Fill the bench database; returns a summary (row counts, seconds) for the state file."""
    tenant_id = state["tenant_id"]
    engine = common.owner_engine(name)
    started = time.perf_counter()
    summary: dict = {"incidents_requested": incidents, "years": years}
    with engine.begin() as connection:
        # Bulk load: one core, big sort memory, and no per-row FK triggers (the rows are consistent by
        # construction and checked below). The owner bypasses RLS; the session names the tenant anyway.
        connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        connection.execute(text("SET LOCAL max_parallel_maintenance_workers = 0"))
        connection.execute(text("SET LOCAL work_mem = '256MB'"))
        connection.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("SELECT set_config('app.tenant_ids', :ids, true)"), {"ids": f"{{{tenant_id}}}"})
        tz = connection.execute(text("SELECT time_zone FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar_one()
        police = connection.execute(text("SELECT id FROM units WHERE tenant_id = :t AND kind = 'police' "
                                         "ORDER BY id LIMIT 1"), {"t": tenant_id}).scalar_one()
        desk = connection.execute(text("SELECT id FROM users WHERE username = 'desk'")).scalar_one()

        # The pools, with each piece's grams from the app's own function.
        texts = call_texts()
        places = [town + road for town in TOWNS for road in ROADS]
        _pool(connection, "bench_texts", texts)
        _pool(connection, "bench_details", DETAILS)
        _pool(connection, "bench_places", places)
        buckets, p_second = category_buckets(connection, tenant_id, police)
        connection.execute(text("CREATE TEMP TABLE bench_buckets (b int PRIMARY KEY, category_id bigint, lead_unit_id bigint, "
                                "second_unit_id bigint, route text, severity text, visit boolean)"))
        connection.execute(text("INSERT INTO bench_buckets VALUES (:b, :category_id, :lead, :second, :route, "
                                ":severity, :visit)"), buckets)
        # Every unit's liaison and responder (setup made one of each for every instructable unit).
        connection.execute(text("""
            CREATE TEMP TABLE bench_unit_users AS
            SELECT u.id AS unit_id,
                   (SELECT min(x.id) FROM users x WHERE x.unit_id = u.id AND 'unit_liaison' = ANY (x.roles)) AS liaison,
                   (SELECT min(x.id) FROM users x WHERE x.unit_id = u.id AND 'responder' = ANY (x.roles)) AS crew
            FROM units u WHERE u.tenant_id = :t"""), {"t": tenant_id})

        now = connection.execute(text("SELECT date_trunc('second', now())")).scalar_one()
        span_seconds = years * 365.25 * 86400
        connection.execute(text("SELECT setseed(0.2026)"))
        print(f"loading {incidents:,} incidents over {years} years into {name} "
              f"(second instruction probability {p_second:.3f})", flush=True)
        _step(connection, "plan", PLAN_SQL, {
            "start": now - timedelta(seconds=span_seconds),
            "step": timedelta(seconds=span_seconds / incidents), "buckets": BUCKETS,
            "n_text": len(texts), "n_detail": len(DETAILS), "n_place": len(places), "n": incidents,
            "p_second": p_second, "cancelled": CANCELLED, "merged": MERGED, "stuck": STUCK, "now": now, "tz": tz})

        # Secondary indexes are rebuilt once after the load rather than maintained row by row.
        indexes = connection.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY (:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)"), {"tables": list(BIG_TABLES)}).all()
        for index_name, _ in indexes:
            connection.execute(text(f'DROP INDEX "{index_name}"'))

        params = {"tenant": tenant_id, "desk": desk, "code": state["tenant_code"], "surnames": SURNAMES,
                  "result_codes": RESULT_CODES, "result_texts": RESULT_TEXTS}
        counts = {
            "incidents": _step(connection, "incidents", INCIDENTS_SQL, params),
            "instructions": _step(connection, "instructions", INSTRUCTIONS_SQL, params),
            "instruction_responders": _step(connection, "instruction_responders", RESPONDERS_SQL, params),
            "instruction_feedback": _step(connection, "instruction_feedback", FEEDBACK_SQL, params),
        }
        counts["timeline_events"] = (_step(connection, "timeline (instructions)", TIMELINE_SQL, params)
                                     + _step(connection, "timeline (incidents)", INCIDENT_TIMELINE_SQL, params))
        _step(connection, "incident_counters", COUNTERS_SQL, params)
        for table in ("incidents", "instructions", "instruction_feedback", "timeline_events"):
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
        index_started = time.perf_counter()
        for index_name, definition in indexes:
            connection.execute(text(definition))
        print(f"  {len(indexes)} secondary indexes rebuilt in {time.perf_counter() - index_started:.1f} s",
              flush=True)
        connection.execute(text("DROP TABLE bench_plan"))
        check(connection, tenant_id)
        summary["counts"] = counts
        summary["states"] = dict(connection.execute(text(
            "SELECT state, count(*) FROM incidents GROUP BY state ORDER BY state")).all())
        summary["instruction_states"] = dict(connection.execute(text(
            "SELECT state, count(*) FROM instructions GROUP BY state ORDER BY state")).all())
        summary["loaded_at"] = now.isoformat()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        vacuum_started = time.perf_counter()
        connection.execute(text("VACUUM (ANALYZE)"))
        print(f"  VACUUM ANALYZE in {time.perf_counter() - vacuum_started:.1f} s", flush=True)
        summary["sizes"] = dict(connection.execute(text(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(c.oid)) FROM pg_class c "
            "WHERE relname = ANY (:t) ORDER BY relname"), {"t": list(BIG_TABLES)}).all())
    engine.dispose()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    print(f"loaded in {summary['seconds']} s: {summary['counts']}\n  incident states {summary['states']}\n"
          f"  instruction states {summary['instruction_states']}\n  sizes {summary['sizes']}", flush=True)
    return summary


def check(connection, tenant_id: int) -> None:
    """The foreign keys the load skipped, as anti-joins; and the search vectors against the app's function."""
    orphans = connection.execute(text("""
        SELECT (SELECT count(*) FROM instructions i WHERE NOT EXISTS (SELECT 1 FROM incidents x WHERE x.id = i.incident_id))
             + (SELECT count(*) FROM timeline_events e WHERE NOT EXISTS (SELECT 1 FROM incidents x WHERE x.id = e.incident_id))
             + (SELECT count(*) FROM timeline_events e WHERE e.instruction_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM instructions i WHERE i.id = e.instruction_id))
             + (SELECT count(*) FROM instruction_feedback f WHERE NOT EXISTS (SELECT 1 FROM instructions i WHERE i.id = f.instruction_id))
             + (SELECT count(*) FROM instruction_responders r WHERE NOT EXISTS (SELECT 1 FROM instructions i WHERE i.id = r.instruction_id))
             + (SELECT count(*) FROM instructions i WHERE i.acknowledged_by_user_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = i.acknowledged_by_user_id))
             + (SELECT count(*) FROM instruction_responders r WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = r.user_id))
             + (SELECT count(*) FROM incidents x WHERE x.merged_into_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM incidents y WHERE y.id = x.merged_into_id))
    """)).scalar_one()
    if orphans:
        raise SystemExit(f"load check: {orphans} rows break a foreign key")
    from app.blueprints.incidents.text import grams as app_grams

    sample = connection.execute(text(
        "SELECT description, address, tsvector_to_array(search_vector) FROM incidents TABLESAMPLE SYSTEM (0.05) "
        "LIMIT 200")).all()
    for description, address, lexemes in sample:
        expected = app_grams(description) | app_grams(address)
        if set(lexemes) != expected:
            raise SystemExit(f"load check: search vector differs from the app's for {description!r} {address!r}")
    print(f"  checks: foreign keys ok, {len(sample)} sampled search vectors equal the app's", flush=True)
