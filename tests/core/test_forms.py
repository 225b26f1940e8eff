import pytest

from apps.core.forms import MAX_ID, IdListField, parse_id


@pytest.mark.parametrize("value", ["1", "42", str(MAX_ID), 7])
def test_plain_ascii_ids_within_the_database_range_are_read(value):
    assert parse_id(value) == int(value)


@pytest.mark.parametrize(
    "value", ["", "0", "-1", "²", "١", " 1 ", "1.0", "1_000", str(MAX_ID + 1), "9" * 5000]
)
def test_anything_else_is_not_an_id(value):
    assert parse_id(value) is None


def test_an_id_list_refuses_the_whole_list_for_one_bad_id():
    field = IdListField(required=False)
    assert field.clean(["3", "4"]) == [3, 4]
    assert field.clean([]) == []
    with pytest.raises(Exception, match="is not an id"):
        field.clean(["3", "²"])
