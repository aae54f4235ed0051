"""Photos named by a unit's feedback count towards the instruction's photo cap (MEDIA_MAX_PER_INSTRUCTION,
30 by default), whether they were uploaded yet or not: a report that would pass it is refused with 409
`media_limit_reached` and changes nothing."""
from __future__ import annotations

import uuid

from tests.factories import assert_error
from tests.test_instruction_support import act, district, issue_one, make_incident  # noqa: F401  (fixture)


def test_feedback_naming_photos_past_the_cap_is_refused_and_changes_nothing(app, client, district, same_database):
    d = district
    instruction = issue_one(client, d, make_incident(app, d.tenant))
    act(client, d, instruction["id"], "acknowledge", d.liaison)
    first = [str(uuid.uuid4()) for _ in range(20)]
    act(client, d, instruction["id"], "arrive", d.liaison, text="到场", media_ids=first)
    # The same photos named again are counted once.
    act(client, d, instruction["id"], "progress", d.liaison, text="抢修中", media_ids=first[:5])

    unchanged = same_database()
    refused = client.post(d.action_url(instruction["id"], "progress"), headers=d.h(d.liaison),
                          json={"text": "又拍了很多", "media_ids": [str(uuid.uuid4()) for _ in range(11)]})
    assert_error(refused, 409, "media_limit_reached")
    unchanged()
    # Up to the cap is fine.
    act(client, d, instruction["id"], "progress", d.liaison, text="补拍", media_ids=[str(uuid.uuid4()) for _ in range(10)])
