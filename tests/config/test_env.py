import pytest

from config.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_str


def test_missing_variables_take_their_defaults():
    assert env_str("X", "d", {}) == "d"
    assert env_bool("X", True, {}) is True
    assert env_int("X", 5, {}) == 5
    assert env_list("X", ["a"], {}) == ["a"]


def test_booleans_accept_the_usual_spellings():
    assert env_bool("X", False, {"X": "Yes"}) is True
    assert env_bool("X", True, {"X": "off"}) is False


def test_a_typo_in_a_boolean_fails_loudly():
    with pytest.raises(ImproperlyConfiguredEnv, match="X='ture'"):
        env_bool("X", False, {"X": "ture"})


def test_integers_allow_underscores_and_reject_words():
    assert env_int("X", 0, {"X": "1_000"}) == 1000
    with pytest.raises(ImproperlyConfiguredEnv):
        env_int("X", 0, {"X": "ten"})


def test_lists_are_comma_separated_and_trimmed():
    assert env_list("X", [], {"X": " a.example , b.example ,"}) == ["a.example", "b.example"]
