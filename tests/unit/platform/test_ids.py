"""The ids the services hand out are random version-4 UUIDs in their lowercase text form, as str(uuid.uuid4())."""
import re
import uuid

from services.platform.ids import UUID_TEXT_LENGTH, may_exist, new_id

UUID4_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_a_new_id_is_a_version_4_uuid_in_the_text_form_str_uuid4_gives():
    for _ in range(2000):
        text = new_id()
        parsed = uuid.UUID(text)
        assert UUID4_TEXT.fullmatch(text) and str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert len(text) == UUID_TEXT_LENGTH and may_exist(text)


def test_new_ids_do_not_repeat():
    assert len({new_id() for _ in range(10_000)}) == 10_000
