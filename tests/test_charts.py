"""Bar charts drawn on the server: bars share one scale, stacked series touch, and every figure
is in the description a screen reader reads."""

from cplan.web import charts


def test_the_longest_bar_fills_the_drawing_and_others_are_in_proportion(app):
    with app.test_request_context():
        chart = charts.bar_chart(
            "c",
            "Title",
            "Station",
            [("met", "At target"), ("below", "Below target")],
            [("Baraut", {"met": 30, "below": 10}, ""), ("Kotwali", {"met": 5, "below": 15}, "/k")],
        )
    full = charts.WIDTH - charts.VALUE_ROOM
    baraut, kotwali = chart.rows
    assert sum(segment.width for segment in baraut.segments) == full
    assert sum(segment.width for segment in kotwali.segments) == full / 2
    met, below = kotwali.segments
    assert below.x == met.x + met.width  # stacked, touching
    assert kotwali.bar_y > baraut.bar_y and chart.height > kotwali.bar_y
    assert len(chart.legend) == 2
    assert chart.description == (
        "Baraut: At target 30, Below target 10; Kotwali: At target 5, Below target 15"
    )
    assert kotwali.values == [5, 15] and kotwali.href == "/k"


def test_a_chart_of_zeros_draws_no_bars_and_says_so(app):
    with app.test_request_context():
        empty = charts.bar_chart("e", "Title", "Day", [("n", "Count")], [])
        zeros = charts.bar_chart("z", "Title", "Day", [("n", "Count")], [("Mon", {"n": 0}, "")])
    assert empty.rows == [] and empty.description == "No figures yet." and empty.height > 0
    assert zeros.rows[0].segments == [] and zeros.rows[0].total == 0
