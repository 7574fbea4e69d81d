"""IntroLLM Table 3 on a tiny model: the head's parameter share and FLOPs by hand."""

from __future__ import annotations

import pytest

from harness.efficiency import efficiency_table


def test_head_cost_by_hand(tiny_policy_dir):
    table = efficiency_table(tiny_policy_dir, {"controller": "introllm"}, contexts=[8, 16], new_tokens=4, repeats=1)
    base, head = table.iloc[0], table.iloc[1]
    extra = 32 * 16 + 16 + 16 * 3 + 3  # Linear(d, d/2) + Linear(d/2, 3), d = 32
    assert head["parameters"] - base["parameters"] == extra
    assert head["parameter delta %"] == pytest.approx(100 * extra / base["parameters"])
    # 2 per weight + attention 4 x layers (2) x context x d (32), in GFLOPs
    assert base["GFLOPs/token @16"] == pytest.approx((2 * base["parameters"] + 4 * 2 * 16 * 32) / 1e9)
    assert head["GFLOPs/token @16"] - base["GFLOPs/token @16"] == pytest.approx(2 * extra / 1e9)
    assert (table[["tokens/s @8", "tokens/s @16"]] > 0).all().all()
