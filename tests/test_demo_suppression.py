"""Secondary suppression of the demo's regional SBS table, checked by hand on a small grid."""

from __future__ import annotations

import numpy as np

from eocic.demo.suppression import publication_grid, revealing_relations, secondary_suppression


def test_secondary_suppression_rules_by_hand():
    # one country XX: NUTS-1 XX1 (XX11, XX12) and XX2 (XX21); section B (B05-B07), D (D35)
    grid = publication_grid(["XX11", "XX12", "XX21"], ["XX"] * 3,
                            ["B05", "B06", "B07", "D35"], ["B", "B", "B", "D"])
    assert grid.geo == ["XX11", "XX12", "XX21", "XX1", "XX2", "XX"]
    assert grid.activity == ["B05", "B06", "B07", "D35", "B", "D"]
    values = np.array([[[50.0], [10.0], [30.0], [5.0]],
                       [[40.0], [20.0], [60.0], [8.0]],
                       [[70.0], [90.0], [80.0], [9.0]]])
    np.testing.assert_allclose(grid.aggregate(values)[grid.geo.index("XX"), :, 0],
                               [160, 120, 170, 22, 450, 22])
    np.testing.assert_allclose(grid.aggregate(values)[grid.geo.index("XX1"), :, 0],
                               [90, 30, 90, 13, 210, 13])

    def hidden(primary_cells):
        primary = np.zeros((3, 4, 1), dtype=bool)
        for r, i in primary_cells:
            primary[r, i] = True
        suppressed, _ = secondary_suppression(grid, primary, values)
        assert revealing_relations(grid, suppressed) == 0
        return {(grid.geo[g], grid.activity[a]) for g, a in zip(*np.nonzero(suppressed[:, :, 0]))}

    # XX11 x B05: its section needs a complement, the smallest other division B06 (10, not
    # B07 = 30); XX1 then has one suppressed child for B05 and for B06, so XX1 x B05, B06 go;
    # the country would reveal them from XX2: XX2 goes (the only sibling, no suppressed
    # child), so its only child XX21 goes, for B05 and B06 (two in section B: protected)
    assert hidden([(0, 0)]) == {("XX11", "B05"), ("XX11", "B06"), ("XX1", "B05"), ("XX1", "B06"),
                                ("XX2", "B05"), ("XX2", "B06"), ("XX21", "B05"), ("XX21", "B06")}
    # two suppressed divisions in a section and two suppressed children: nothing more
    assert hidden([(0, 0), (0, 1), (1, 0), (1, 1)]) == {
        ("XX11", "B05"), ("XX11", "B06"), ("XX12", "B05"), ("XX12", "B06")}
    # a one-division section goes with its division, a one-child NUTS-1 with its child; the
    # country then sees XX2 x D35 alone: the sibling XX1 goes with its smallest child XX11
    assert hidden([(2, 3)]) == {
        ("XX21", "D35"), ("XX21", "D"), ("XX2", "D35"), ("XX2", "D"), ("XX1", "D35"),
        ("XX1", "D"), ("XX11", "D35"), ("XX11", "D")}
