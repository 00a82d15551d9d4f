from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.core import Item, ValidationError
from crucible.datasets import Score, ScorerName, get_scorer, load, register_scorer, scorer_names
from crucible.datasets.score import (
    Bleu,
    CustomScorer,
    ExactMatch,
    MultipleChoice,
    NumericMatch,
    RegexMatch,
    RougeL,
    TokenF1,
    extract_choice,
    extract_number,
    normalize_text,
)


def item(expected: object, **metadata: object) -> Item:
    return Item("q", "question", expected, metadata)


def test_exact_match_normalisation_options() -> None:
    assert ExactMatch()("  The Beatles! ", item("beatles")).value == 1.0
    assert ExactMatch(case=False)("paris", item("Paris")).value == 0.0
    assert ExactMatch(punctuation=False)("Paris.", item("paris")).value == 0.0
    assert ExactMatch(articles=False)("the beatles", item("beatles")).value == 0.0
    assert ExactMatch(whitespace=False)("new  york", item("new york")).value == 0.0
    # A list of accepted answers: any one matches.
    scored = ExactMatch()("NYC", item(["New York", "nyc"]))
    assert scored.value == 1.0 and scored.details["matched"] == "nyc"
    assert ExactMatch()(None, item("x")).value == 0.0


def test_token_f1_squad_values() -> None:
    # Hand-computed from the SQuAD v1.1 definition: tokens after normalisation
    # pred "cat sat" vs gold "cat sat down": P = 2/2, R = 2/3, F1 = 2PR/(P+R) = 0.8.
    scored = TokenF1()("the cat sat", item("a cat sat down"))
    assert scored.value == pytest.approx(0.8)
    assert scored.details["precision"] == 1.0
    assert scored.details["recall"] == pytest.approx(2 / 3)
    # Repeated tokens count with multiplicity: pred "a a b" -> [b]... articles dropped, so use words.
    assert TokenF1()("red red blue", item("red blue blue")).value == pytest.approx(2 / 3)
    assert TokenF1()("nothing", item("else")).value == 0.0
    assert TokenF1()("x y", item(["q", "x y"])).value == 1.0


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("The answer is (B)", "B"),
        ("The answer is (b).", "B"),
        ("B.", "B"),
        ("**B**", "B"),
        ("b", "B"),
        ("(c) because the others are wrong", "C"),
        ("D) 42", "D"),
        ("Answer: a", "A"),
        ("I think the correct answer is A because it is smallest", "A"),
        ("A prime number has two divisors, so the answer is D", "D"),
        ("A group of order 4 is always abelian, hence C.", "C"),
        ("The answer is C, not option A", "C"),
        ("After careful thought, **C** is right.", "C"),
        ("Final answer: [D]", "D"),
        ("A", "A"),
        ("A. 4", "A"),
        ("The correct option is **b**", "B"),
    ],
)
def test_extract_choice(text: str, letter: str) -> None:
    assert extract_choice(text) == letter


@pytest.mark.parametrize(
    "text",
    [
        "A cat is not an answer.",  # "A" as an article only
        "The answer is a prime number",  # lower-case article after "answer is"
        "B or C, I cannot decide",  # ambiguous
        "",
        "None of the above",
    ],
)
def test_extract_choice_refuses(text: str) -> None:
    assert extract_choice(text) is None


def test_extract_choice_by_text_and_range() -> None:
    assert extract_choice("Paris", choices=["London", "Paris", "Rome", "Oslo"]) == "B"
    assert extract_choice("The answer is E") is None  # only A-D for 4 choices
    assert extract_choice("The answer is E", n_choices=5) == "E"


def test_multiple_choice_scorer_uses_choice_count() -> None:
    it = item("F", choices=list("abcdefgh"))
    assert MultipleChoice()("Answer: (F)", it).value == 1.0
    scored = MultipleChoice()("A man walked in.", item("A"))
    assert scored.value == 0.0 and scored.details["extracted"] is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Janet sells 9 eggs.\nShe makes $18.\n#### 18", Fraction(18)),
        ("So the total is 18.00 dollars.", Fraction(18)),
        ("The answer is 1,250 apples, not 3.", Fraction(1250)),
        ("The temperature dropped to -5 degrees.", Fraction(-5)),
        ("It dropped to −7.", Fraction(-7)),
        ("She used 3/4 of a cup.", Fraction(3, 4)),
        ("That is a 25% increase", Fraction(25)),
        ("\\boxed{42} after checking 7 cases", Fraction(42)),
        ("It costs $0.50 each", Fraction(1, 2)),
        ("1, 2, 3, then 4", Fraction(4)),
        ("no number here", None),
    ],
)
def test_extract_number(text: str, value: Fraction | None) -> None:
    assert extract_number(text) == value


def test_numeric_match_on_gsm8k() -> None:
    first = load("gsm8k", limit=1)[0]
    assert NumericMatch()("She makes 9 * 2 = $18.00 every day.", first).value == 1.0
    assert NumericMatch()(first.metadata["solution"], first).value == 1.0
    assert NumericMatch()("I think it's 17", first).value == 0.0
    assert NumericMatch(tolerance=0.01)("18.004", first).value == 1.0
    with pytest.raises(ValidationError, match="is not a number"):
        NumericMatch()("5", item("five"))
    # Every GSM8K reference solution scores 1 against its own final answer.
    ds = load("gsm8k")
    scores = NumericMatch().score_batch([it.metadata["solution"] for it in ds], list(ds))
    assert sum(s.value for s in scores) == len(ds)


def test_bleu_matches_sacrebleu() -> None:
    hyp = "The cat is sitting on the mat near the door."
    ref = "The cat sat on the mat by the door."
    # sacrebleu 2.6.0: sentence_bleu(hyp, [ref]).score == 26.65837681702885
    assert Bleu()(hyp, item(ref)).value == pytest.approx(0.2665837681702885)
    # sacrebleu 2.6.0: sentence_bleu(hyp, [ref, "A cat is sitting on a mat near the door."])
    multi = item([ref, "A cat is sitting on a mat near the door."])
    assert Bleu()(hyp, multi).value == pytest.approx(0.7071067811865478)
    # sacrebleu 2.6.0: corpus_bleu([hyp, "hello world there"], [[ref, "hello world here"]])
    corpus = Bleu().corpus([hyp, "hello world there"], [item(ref), item("hello world here")])
    assert corpus.value == pytest.approx(0.25848657697858524)
    assert Bleu()("identical sentence here ok", item("identical sentence here ok")).value == 1.0


def test_rouge_l_matches_rouge_score() -> None:
    hyp = "The cat is sitting on the mat near the door."
    ref = "The cat sat on the mat by the door."
    # rouge-score 0.1.2: RougeScorer(["rougeL"]).score(ref, hyp)["rougeL"]
    # -> precision 0.7, recall 0.7777..., fmeasure 0.7368421052631577
    scored = RougeL()(hyp, item(ref))
    assert scored.value == pytest.approx(0.7368421052631577)
    assert scored.details["precision"] == pytest.approx(0.7)
    assert RougeL()(hyp, item(["zzz", ref])).value == pytest.approx(0.7368421052631577)


def test_regex_and_custom() -> None:
    assert RegexMatch(r"\bParis\b")("It is Paris.", item(None)).value == 1.0
    assert RegexMatch(r"ANSWER:\s*(\w+)", group=1)("ANSWER: paris", item("Paris")).value == 1.0
    assert RegexMatch(r"ANSWER:\s*(\w+)", group=1)("ANSWER: rome", item("Paris")).value == 0.0
    with pytest.raises(ValidationError, match="is not a valid regex"):
        RegexMatch("(")
    long = CustomScorer(lambda p, it: len(p) > 3, name="long")
    assert long("hello", item(None)) == Score(1.0)
    assert CustomScorer(lambda p, it: Score(0.5, {"why": "half"}))("x", item(None)).details == {
        "why": "half"
    }
    with pytest.raises(ValidationError, match="return a bool, a number or a Score"):
        CustomScorer(lambda p, it: "yes")("x", item(None))


def test_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from crucible.datasets import _registry

    monkeypatch.setattr(_registry, "_registry", dict(_registry._registry))
    assert set(scorer_names()) >= {s.value for s in ScorerName}
    assert isinstance(get_scorer(ScorerName.F1), TokenF1)
    assert get_scorer("exact_match", case=False).options["case"] is False  # type: ignore[attr-defined]
    with pytest.raises(
        ValidationError, match="unknown scorer 'bleurt'; valid scorers: bleu, code_execution"
    ):
        get_scorer("bleurt")
    register_scorer("always_one", lambda: CustomScorer(lambda p, it: 1.0, name="always_one"))
    assert get_scorer("always_one")("x", item(None)).value == 1.0
    with pytest.raises(ValidationError, match="already registered"):
        register_scorer("always_one", TokenF1)


def test_score_batch_checks_lengths() -> None:
    with pytest.raises(ValidationError, match="`predictions` has 1 entries but `items` has 2"):
        ExactMatch().score_batch(["a"], [item("a"), item("b")])
    scores = MultipleChoice().score_batch(["A", "(b)"], [item("A"), item("C")])
    assert [s.value for s in scores] == [1.0, 0.0]
    assert scores[0].to_dict() == {"value": 1.0, "details": {"extracted": "A", "expected": "A"}}


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.text(max_size=40), st.text(max_size=40))
def test_f1_bounds_and_symmetry(a: str, b: str) -> None:
    f_ab = TokenF1()(a, item(b)).value
    assert 0.0 <= f_ab <= 1.0
    assert f_ab == pytest.approx(TokenF1()(b, item(a)).value)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(
        st.text(max_size=20) | st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=20),
        min_size=1,
        max_size=8,
    ),
    refs=st.lists(
        st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=20) | st.text(max_size=20),
        min_size=1,
        max_size=3,
    ),
    flags=st.fixed_dictionaries(
        {k: st.booleans() for k in ("case", "whitespace", "punctuation", "articles")}
    ),
)
def test_exact_match_batch_equals_per_item(
    texts: list[str], refs: list[str], flags: dict[str, bool]
) -> None:
    scorer = ExactMatch(**flags)
    items = [item(refs if i % 2 else refs[0]) for i in range(len(texts))]
    assert scorer.score_batch(texts, items) == [
        scorer(t, it) for t, it in zip(texts, items, strict=True)
    ]


def test_exact_match_batch_examples() -> None:
    preds = ["  The Beatles! ", "Paris", "x\x1cy", "Café", None]
    items = [item("beatles"), item(["London", "paris"]), item("x y"), item("café"), item("")]
    assert [s.value for s in ExactMatch().score_batch(preds, items)] == [1.0, 1.0, 1.0, 1.0, 1.0]
