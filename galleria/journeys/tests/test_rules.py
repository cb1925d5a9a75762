"""The shape of a journey: validation names the step at fault, branches continue after themselves, the random
split is stable and near its share, and the points a member can get are the most of any path."""

from __future__ import annotations

from galleria.journeys import rules


def _definition():
    return {
        "steps": [
            {"id": "w1", "kind": "wait", "minutes": 60},
            {"id": "m1", "kind": "message", "inbox": True, "title": " 欢迎  加入 ", "body": "送您 50 元券"},
            {
                "id": "b1",
                "kind": "branch",
                "test": "purchased",
                "yes": [{"id": "p1", "kind": "points", "points": 200}],
                "no": [
                    {"id": "c1", "kind": "coupon", "template_id": "7"},
                    {"id": "p2", "kind": "points", "points": 50},
                ],
            },
            {"id": "t1", "kind": "tag", "tag_id": 3},
        ]
    }


def test_a_valid_definition_is_kept_in_canonical_form():
    canonical, errors = rules.canonical(_definition())
    assert errors == {}
    assert canonical["steps"][1]["title"] == "欢迎 加入"
    assert canonical["steps"][2]["no"][0]["template_id"] == 7
    assert rules.references(canonical) == {"template_id": {7}, "segment_id": set(), "tag_id": {3}}


def test_branches_continue_with_the_step_after_them():
    canonical, _ = rules.canonical(_definition())
    nodes = rules.flatten(canonical)
    assert rules.first_step(canonical) == "w1"
    assert nodes["w1"].next == "m1" and nodes["m1"].next == "b1"
    assert rules.branch_target(nodes["b1"], True) == "p1" and rules.branch_target(nodes["b1"], False) == "c1"
    assert nodes["p1"].next == "t1" and nodes["c1"].next == "p2" and nodes["p2"].next == "t1"
    assert nodes["t1"].next is None


def test_an_empty_branch_arm_goes_straight_on():
    canonical, _ = rules.canonical(
        {
            "steps": [
                {"id": "b", "kind": "branch", "test": "random", "percent": 30, "yes": [], "no": []},
                {"id": "x", "kind": "wait", "minutes": 5},
            ]
        }
    )
    node = rules.flatten(canonical)["b"]
    assert rules.branch_target(node, True) == "x" == rules.branch_target(node, False)


def test_problems_are_named_by_step():
    bad = {
        "steps": [
            {"id": "w", "kind": "wait", "minutes": 0},
            {"id": "m", "kind": "message", "inbox": False, "sms": False, "title": "t", "body": "b"},
            {"id": "s", "kind": "message", "sms": True, "title": "t", "body": "b", "sms_text": "x" * 61},
            {"id": "p", "kind": "points", "points": 100_001},
            {"id": "b", "kind": "branch", "test": "random", "percent": 100},
            {"id": "q", "kind": "teleport"},
        ]
    }
    _, errors = rules.canonical(bad)
    assert set(errors) == {"w", "m", "s", "p", "b", "q"}


def test_duplicate_ids_empty_journeys_and_too_many_steps_are_refused():
    assert "" in rules.canonical({"steps": [{"id": "a", "kind": "wait", "minutes": 1}] * 2})[1]
    assert "" in rules.canonical({"steps": []})[1]
    assert "" in rules.canonical("nonsense")[1]
    many = {"steps": [{"id": f"w{i}", "kind": "wait", "minutes": 1} for i in range(rules.MAX_STEPS + 1)]}
    assert "" in rules.canonical(many)[1]


def test_branches_nest_only_so_deep():
    inner: list = [{"id": "end", "kind": "wait", "minutes": 1}]
    for depth in range(rules.MAX_DEPTH + 1):
        inner = [{"id": f"b{depth}", "kind": "branch", "test": "purchased", "yes": inner, "no": []}]
    _, errors = rules.canonical({"steps": inner})
    assert any(k.startswith("b") for k in errors)


def test_the_random_split_is_stable_and_near_its_share():
    picks = [rules.in_split(9, "b1", m, 30) for m in range(1, 10_001)]
    assert picks == [rules.in_split(9, "b1", m, 30) for m in range(1, 10_001)]
    assert 2800 < sum(picks) < 3200
    assert picks != [rules.in_split(10, "b1", m, 30) for m in range(1, 10_001)]


def test_points_per_member_is_the_richest_path():
    canonical, _ = rules.canonical(_definition())
    assert rules.points_total(canonical) == 200
