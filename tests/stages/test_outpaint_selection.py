"""The auto rule on hand-written boxes: outpaint exactly when a kept person box touches a border."""

import pytest

from humanverse.stages.outpaint_selection import needs_outpaint, truncated_sides

W, H = 100, 80


def person(*box):
    return {"box": list(box), "score": 0.9, "area_frac": 0.3}


@pytest.mark.parametrize(
    "box, sides",
    [
        ((10, 10, 90, 70), ()),
        ((0, 10, 50, 70), ("left",)),
        ((10, 1.5, 50, 70), ("top",)),
        ((10, 10, 100, 70), ("right",)),
        ((10, 10, 50, 79), ("bottom",)),
        ((10, 10, 50, 77.9), ()),
        ((0, 0, 100, 80), ("left", "top", "right", "bottom")),
        ((2.0, 10, 98.0, 70), ("left", "right")),
    ],
)
def test_each_border_is_detected_within_tolerance(box, sides):
    assert truncated_sides([person(*box)], W, H, border_tol_px=2) == sides
    apply, reason = needs_outpaint([person(*box)], W, H, "auto", border_tol_px=2)
    assert apply == bool(sides)
    assert reason == ("truncated:" + ",".join(sides) if sides else "not_truncated")


def test_zero_tolerance_needs_an_exact_touch():
    assert truncated_sides([person(1, 10, 50, 70)], W, H, border_tol_px=0) == ()
    assert truncated_sides([person(0, 10, 50, 70)], W, H, border_tol_px=0) == ("left",)


def test_one_cut_person_among_whole_ones_is_enough():
    persons = [person(10, 10, 40, 70), person(60, 10, 100, 70)]
    assert needs_outpaint(persons, W, H, "auto") == (True, "truncated:right")


def test_modes_never_and_always_override_the_boxes():
    assert needs_outpaint([person(0, 0, 100, 80)], W, H, "never") == (False, "mode_never")
    assert needs_outpaint([person(10, 10, 90, 70)], W, H, "always") == (True, "mode_always")
    assert needs_outpaint([], W, H, "auto") == (False, "no_persons")


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError):
        needs_outpaint([], W, H, "sometimes")
