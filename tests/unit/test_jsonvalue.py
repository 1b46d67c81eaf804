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


class Opaque:
    def __repr__(self):
        return "<Opaque>"


def test_keys_json_refuses_become_their_repr():
    assert jsonvalue.loads(jsonvalue.dumps({(1, 2): "pair", Opaque(): b"x", 3: "three"})) == {
        "(1, 2)": "pair", "<Opaque>": b"x", "3": "three"}


def test_a_cycle_is_marked_where_it_closes():
    loop = [1]
    loop.append(loop)
    decoded = jsonvalue.loads(jsonvalue.dumps({"loop": loop}))
    assert decoded["loop"][0] == 1 and "cycle" in decoded["loop"][1]["$repr"]


def test_an_int_too_long_to_print_is_marked():
    decoded = jsonvalue.loads(jsonvalue.dumps({"big": 10 ** 5000, (10 ** 5000): 1}))
    assert decoded["big"] == {"$repr": f"<int of {(10 ** 5000).bit_length()} bits>"}


def test_nesting_deeper_than_json_walks_is_cut_with_a_mark():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    text = jsonvalue.dumps({"deep": deep, "bytes": b"\x01"})
    assert "nested deeper than" in text and jsonvalue.loads(text)["bytes"] == b"\x01"


def test_lone_surrogates_are_escaped_so_the_text_is_valid_utf8():
    text = jsonvalue.dumps({"name": b"caf\xe9".decode("utf-8", "surrogateescape")})
    text.encode("utf-8")
    assert jsonvalue.loads(text) == {"name": "caf\udce9"}


def test_a_repr_that_returns_no_string_or_recurses_forever_is_still_encoded():
    class NotText:
        def __repr__(self):
            return 5

    class Recursive:
        def __repr__(self):
            return repr(self)

    decoded = jsonvalue.loads(jsonvalue.dumps([NotText(), Recursive()]))
    assert "unrepresentable NotText" in decoded[0]["$repr"]
    assert "RecursionError" in decoded[1]["$repr"]
