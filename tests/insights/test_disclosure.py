"""The disclosure rules as pure functions: primary and complementary suppression, in one
and two dimensions."""

from surveys.disclosure import leaks, line_complement, suppress_line, suppress_table


def test_a_cell_under_k_is_hidden_and_an_empty_one_is_not():
    # when
    hidden = suppress_line({"a": 3, "b": 0, "c": 4, "d": 20}, k=5)

    # then: 3 and 4 together make 7, which is no group under k
    assert hidden == {"a", "c"}


def test_a_lone_hidden_cell_takes_the_next_smallest_with_it():
    # given: the example, a kiosk total of 20 over stores of 12, 5 and 3
    counts = {"Silom": 12, "Siam": 5, "Ari": 3}

    # when
    hidden = suppress_line(counts, k=5)

    # then: 20 − 12 = 8, no store's count
    assert hidden == {"Ari", "Siam"}
    assert leaks(total=20, shown=[12], k=5) == []


def test_complementary_cells_are_added_until_the_hidden_sum_reaches_k():
    # when
    hidden = line_complement({"a": 1, "b": 1, "c": 1, "d": 9}, {"a"}, k=5)

    # then: 1 + 1 + 1 is still under 5, so the 9 goes too
    assert hidden == {"a", "b", "c", "d"}


def test_ties_are_broken_the_same_way_whatever_the_order():
    # when / then
    assert suppress_line({"x": 2, "b": 6, "a": 6}, k=5) == suppress_line(
        {"a": 6, "x": 2, "b": 6}, k=5
    )


def test_a_table_hides_cells_so_no_row_or_column_total_gives_one_away():
    # given: a store with 4 kiosk and 3 link answers, and others
    counts = {
        ("Siam", "kiosk"): 4,
        ("Siam", "link"): 3,
        ("Silom", "kiosk"): 12,
        ("Silom", "link"): 9,
        ("Ari", "kiosk"): 8,
    }

    # when
    result = suppress_table(counts, k=5)

    # then: the store's total (7) stays; each column's hidden cells sum to k or more
    assert "Siam" not in result.rows
    rows = {r for r, _c in counts}
    columns = {c for _r, c in counts}
    for r in rows:
        shown = [n for key, n in counts.items() if key[0] == r and key not in result.cells]
        assert (
            leaks(total=sum(n for key, n in counts.items() if key[0] == r), shown=shown, k=5) == []
        )
    for c in columns:
        shown = [n for key, n in counts.items() if key[1] == c and key not in result.cells]
        assert (
            leaks(total=sum(n for key, n in counts.items() if key[1] == c), shown=shown, k=5) == []
        )


def test_a_hidden_row_total_hides_its_cells():
    # given: one store under k overall, whose total the grand total would give away
    counts = {("a", "x"): 2, ("b", "x"): 6, ("b", "y"): 6, ("c", "y"): 10}

    # when
    result = suppress_table(counts, k=5)

    # then
    # then: the next-smallest store (c, 10) hides with it, and their cells
    assert result.rows == {"a", "c"}
    assert {("a", "x"), ("c", "y")} <= result.cells


def test_leaks_names_a_shown_small_count_and_a_small_remainder():
    # when / then
    assert leaks(total=10, shown=[3, 5], k=5) == [3, 2]
    assert leaks(total=None, shown=[None, 6], k=5) == []
