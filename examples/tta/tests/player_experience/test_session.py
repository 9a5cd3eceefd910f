from player_experience.session import greeting


def test_greeting_names_the_player():
    assert greeting("Ada") == "Welcome back, Ada."
