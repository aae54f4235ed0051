"""Result codes (处置结果代码) a unit reports when it resolves an instruction; docs/result-codes.md explains them."""
from __future__ import annotations

RESULT_CODES: dict[str, str] = {
    "10": "处置完毕 — handled on site, the matter is over",
    "11": "调解完毕 — mediated, the parties agreed",
    "12": "抢修完毕 — repaired, service restored",
    "13": "救助完毕 — person helped, rescued or taken in",
    "20": "移交处理 — handed to the competent authority, which has taken it",
    "21": "立案查处 — opened as a case for investigation or penalty",
    "30": "临时处置 — temporary measures taken, follow-up scheduled",
    "40": "现场无事 — nothing found on site",
    "41": "当事人撤回 — the caller withdrew the request",
    "42": "无法联系 — the caller could not be reached or found",
    "90": "其他 — other; the text says what",
}

# Codes whose meaning is only clear with an explanation.
TEXT_REQUIRED = frozenset({"30", "90"})
