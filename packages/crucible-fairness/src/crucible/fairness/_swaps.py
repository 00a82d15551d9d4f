"""Demographic term swaps for counterfactual prompts: bundled lists with their sources, extensible.

A :class:`SwapList` maps terms to their counterfactual and rewrites text with whole-word,
case-preserving, simultaneous replacement (so ``he ↔ she`` never swaps twice).

Bundled lists (``SWAP_LISTS``):

* ``gender`` — English pronouns and gendered nouns and titles, the word pairs used in
  counterfactual data augmentation (Lu et al. 2020, "Gender Bias in Neural Natural Language
  Processing"; Zhao et al. 2018, "Gender Bias in Coreference Resolution"). ``her`` is ambiguous
  (object or possessive) and maps to ``his``; prompts where that matters need their own list.
* ``names`` — first names perceived as White or African American from the audit study of
  Bertrand & Mullainathan (2004), "Are Emily and Greg More Employable than Lakisha and Jamal?",
  American Economic Review 94(4), paired in the order of the paper's tables (female with
  female, male with male).
* ``dialect`` — a few African American English markers (habitual/zero copula, *ain't*,
  *finna*) against Standard American English, after the matched-guise probes of Hofmann et al.
  (2024), "AI generates covertly racist decisions about people based on their dialect",
  Nature 633. A handful of phrase swaps does not make a text AAE; use it as a probe, not a
  dialect translator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from crucible.fairness._data import FairnessError

__all__ = ["SWAP_LISTS", "SwapList"]


def _pairs(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    out = tuple((str(a), str(b)) for a, b in value)
    if not out:
        raise FairnessError("`pairs` is empty; give at least one (term, counterfactual) pair")
    for a, b in out:
        if not a.strip() or not b.strip() or a.lower() == b.lower():
            raise FairnessError(f"swap pair {(a, b)!r} must be two different non-empty terms")
    return out


@attrs.frozen
class SwapList:
    """Term pairs to swap, with where they come from.

    Attributes:
        name: a short name (``"gender"``).
        pairs: ``(term, counterfactual)`` pairs.
        source: citation for the list.
        bidirectional: also swap each counterfactual back to its term.

    Example:
        >>> SWAP_LISTS["gender"].apply("He said his sister called him.")
        'She said her brother called her.'
        >>> SWAP_LISTS["gender"].apply("She thanked her mother.")
        'He thanked his father.'
    """

    name: str
    pairs: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs)
    source: str = ""
    bidirectional: bool = True

    def mapping(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for a, b in self.pairs:
            out.setdefault(a.lower(), b)
            if self.bidirectional:
                out.setdefault(b.lower(), a)
        return out

    def _pattern(self) -> re.Pattern[str]:
        terms = sorted(self.mapping(), key=len, reverse=True)
        return re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")\b", re.IGNORECASE)

    def apply(self, text: str) -> str:
        """``text`` with every listed term replaced by its counterpart (case preserved)."""
        table = self.mapping()

        def swap(match: re.Match[str]) -> str:
            word = match.group(0)
            new = table[word.lower()]
            if word.isupper() and len(word) > 1:
                return new.upper()
            if word[0].isupper():
                return new[0].upper() + new[1:]
            return new

        return self._pattern().sub(swap, text)

    def __add__(self, other: SwapList) -> SwapList:
        return SwapList(
            f"{self.name}+{other.name}", self.pairs + other.pairs,
            "; ".join(s for s in (self.source, other.source) if s), self.bidirectional,
        )  # fmt: skip


_GENDER = [
    ("he", "she"), ("his", "her"), ("him", "her"), ("himself", "herself"), ("man", "woman"),
    ("men", "women"), ("boy", "girl"), ("boys", "girls"), ("father", "mother"),
    ("fathers", "mothers"), ("son", "daughter"), ("sons", "daughters"), ("brother", "sister"),
    ("brothers", "sisters"), ("husband", "wife"), ("husbands", "wives"), ("uncle", "aunt"),
    ("nephew", "niece"), ("king", "queen"), ("gentleman", "lady"), ("gentlemen", "ladies"),
    ("mr", "ms"), ("sir", "madam"), ("male", "female"), ("boyfriend", "girlfriend"),
    ("grandfather", "grandmother"), ("dad", "mom"), ("actor", "actress"), ("waiter", "waitress"),
]  # fmt: skip

_NAMES = [
    ("Allison", "Aisha"), ("Anne", "Ebony"), ("Carrie", "Keisha"), ("Emily", "Kenya"),
    ("Jill", "Lakisha"), ("Laurie", "Latonya"), ("Kristen", "Latoya"), ("Meredith", "Tamika"),
    ("Sarah", "Tanisha"), ("Brad", "Darnell"), ("Brendan", "Hakim"), ("Geoffrey", "Jamal"),
    ("Greg", "Jermaine"), ("Brett", "Kareem"), ("Jay", "Leroy"), ("Matthew", "Rasheed"),
    ("Neil", "Tremayne"), ("Todd", "Tyrone"),
]  # fmt: skip

_DIALECT = [
    ("isn't", "ain't"), ("is not", "ain't"), ("am not", "ain't"), ("going to", "finna"),
    ("he is", "he"), ("she is", "she"), ("they are", "they"), ("we are", "we"),
]  # fmt: skip

#: The bundled lists; combine with ``+`` or build your own :class:`SwapList`.
SWAP_LISTS: Mapping[str, SwapList] = {
    "gender": SwapList(
        "gender", _GENDER,
        "Lu et al. (2020) doi:10.1007/978-3-030-62077-6_14; Zhao et al. (2018) doi:10.18653/v1/N18-2003",
    ),
    "names": SwapList(
        "names", _NAMES, "Bertrand & Mullainathan (2004) doi:10.1257/0002828042002561"
    ),
    "dialect": SwapList(
        "dialect", _DIALECT, "Hofmann et al. (2024) doi:10.1038/s41586-024-07856-5",
        bidirectional=False,
    ),
}  # fmt: skip


def resolve_swaps(swaps: str | SwapList | Iterable[str | SwapList] | Mapping[str, str]) -> SwapList:
    """A :class:`SwapList` from a bundled name, a list of names/lists, or a term mapping."""
    if isinstance(swaps, SwapList):
        return swaps
    if isinstance(swaps, str):
        if swaps not in SWAP_LISTS:
            raise FairnessError(
                f"unknown swap list {swaps!r}; bundled lists are {sorted(SWAP_LISTS)} (or pass a "
                "SwapList or a {term: counterfactual} mapping)"
            )
        return SWAP_LISTS[swaps]
    if isinstance(swaps, Mapping):
        return SwapList("custom", list(swaps.items()), "user-supplied")
    combined: SwapList | None = None
    for s in swaps:
        one = resolve_swaps(s)
        combined = one if combined is None else combined + one
    if combined is None:
        raise FairnessError("`swaps` is empty; name a bundled list such as 'gender'")
    return combined
