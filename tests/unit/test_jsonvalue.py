from polynb import jsonvalue


def test_plain_json_round_trips():
    value = {"a": [1, 2.5, None, True], "b": "text"}
    assert jsonvalue.loads(jsonvalue.dumps(value)) == value


def test_bytes_round_trip_so_a_recorded_input_can_be_replayed():
    value = {"raw": b"\x00\xffpayload", "nested": [b"x"]}
    assert jsonvalue.loads(jsonvalue.dumps(value)) == value


def test_objects_json_cannot_hold_are_kept_as_their_repr():
    class Thing:
        def __repr__(self):
            return "<Thing 7>"

    assert jsonvalue.loads(jsonvalue.dumps({"t": Thing()})) == {"t": {"$repr": "<Thing 7>"}}


def test_a_broken_repr_does_not_raise():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr")

    decoded = jsonvalue.loads(jsonvalue.dumps(Broken()))
    assert "no repr" in decoded["$repr"]


def test_sets_and_tuples_become_lists():
    assert jsonvalue.loads(jsonvalue.dumps({"s": {1}, "t": (1, 2)})) == {"s": [1], "t": [1, 2]}
