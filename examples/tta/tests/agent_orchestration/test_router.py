from agent_orchestration.router import plan, route


def test_each_verb_has_its_agent():
    assert route("narrate the cave") == "narrator"
    assert route("Remember the key") == "archivist"
    assert route("check my safety plan") == "guardian"


def test_anything_else_is_narrated():
    assert route("dance") == "narrator"
    assert route("   ") == "narrator"


def test_a_plan_keeps_the_order_per_agent():
    assert plan(["remember a", "dance", "remember b"]) == {
        "archivist": ["remember a", "remember b"],
        "narrator": ["dance"],
    }
