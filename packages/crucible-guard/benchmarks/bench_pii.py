"""PII detection: crucible.guard.find_pii vs Presidio's analyzer (pattern recognizers only).

A seeded synthetic corpus of sentences holds emails, phone numbers (US national and
international, libphonenumber-valid), credit cards (Luhn-valid), US SSNs (valid
area/group/serial), IPv4/IPv6 addresses, URLs and IBANs (mod-97-valid), plus decoys that must
NOT be reported: Luhn-invalid card numbers, impossible SSNs (000-, 666-, 9xx-), IBANs with a bad
checksum, order numbers, dates, versions, prices and times.

Presidio configuration (offline; no spaCy model can be downloaded): a blank English spaCy
pipeline (``spacy.blank("en")``, tokenizer only, saved to a temporary directory) loaded through
``SpacyNlpEngine(models=[{"lang_code": "en", "model_name": <that directory>}])``, and a
``RecognizerRegistry`` holding exactly Presidio's pattern recognizers for the same kinds:
EmailRecognizer, PhoneRecognizer, CreditCardRecognizer, UsSsnRecognizer, IpRecognizer,
UrlRecognizer, IbanRecognizer. ``AnalyzerEngine(nlp_engine=..., registry=...,
supported_languages=["en"])``. Presidio is scored at its default score threshold (0) and at 0.5.

Scoring: a prediction is a true positive when it overlaps a gold span of the same kind (IPv4 and
IPv6 are one kind, "ip", as Presidio does not separate them); predictions nested inside another
prediction of the same system are dropped first (as Presidio's anonymizer resolves overlaps).
Throughput is texts per second, single-threaded, the same texts for both, from the fastest of
``REPEATS`` interleaved runs of each (the machine may be shared; the minimum is the least
disturbed run, as ``timeit`` reports). Prints one JSON line.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

import phonenumbers

from crucible.guard import PII_TYPES, find_pii

N_TEXTS = 1500
REPEATS = 3
SEED = 20240601
KIND = {"ipv4": "ip", "ipv6": "ip"}
PRESIDIO_KIND = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "credit_card",
    "US_SSN": "ssn",
    "IP_ADDRESS": "ip",
    "URL": "url",
    "IBAN_CODE": "iban",
}
FIRST = ["ann", "bob", "carla", "dev", "eli", "fatima", "gus", "hana", "ivan", "jo"]
DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "uni.example.edu"]
WORDS = [
    "please",
    "contact",
    "the",
    "team",
    "about",
    "order",
    "invoice",
    "meeting",
    "report",
    "update",
    "tomorrow",
    "today",
    "account",
]


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return digits + str((10 - total % 10) % 10)


def _group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    out, i = [], 0
    for s in sizes:
        out.append(digits[i : i + s])
        i += s
    return sep.join(out)


def _iban(rng: random.Random, valid: bool = True) -> str:
    country, bban_len = rng.choice([("DE", 18), ("GB", 18), ("FR", 23), ("NL", 14), ("ES", 20)])
    if country == "GB":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            str(rng.randrange(10)) for _ in range(14)
        )
    elif country == "NL":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            str(rng.randrange(10)) for _ in range(10)
        )
    else:
        bban = "".join(str(rng.randrange(10)) for _ in range(bban_len))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    if not valid:
        check = (check + 1 + rng.randrange(90)) % 97 + 2
    iban = f"{country}{check:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban


def _phone(rng: random.Random) -> str:
    region = rng.choice(["US", "US", "US", "GB", "DE", "FR", "IN", "CA"])
    while True:
        example = phonenumbers.example_number_for_type(
            region,
            phonenumbers.PhoneNumberType.MOBILE
            if rng.random() < 0.5
            else phonenumbers.PhoneNumberType.FIXED_LINE,
        )
        national = str(example.national_number)
        digits = national[:3] + "".join(str(rng.randrange(10)) for _ in range(len(national) - 3))
        number = phonenumbers.parse(f"+{example.country_code}{digits}")
        if phonenumbers.is_valid_number(number):
            break
    if region == "US" and rng.random() < 0.7:
        fmt = phonenumbers.PhoneNumberFormat.NATIONAL
    else:
        fmt = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


def _values(rng: random.Random) -> dict[str, str]:
    ssn_area = rng.choice([i for i in range(1, 900) if i != 666])
    card = rng.choice([("4", 16), ("51", 16), ("37", 15), ("6011", 16)])
    card_digits = _luhn_complete(card[0], card[1], rng)
    sizes = (4, 6, 5) if card[1] == 15 else (4, 4, 4, 4)
    return {
        "email": f"{rng.choice(FIRST)}.{rng.choice(FIRST)}{rng.randrange(100)}@{rng.choice(DOMAINS)}",
        "phone": _phone(rng),
        "credit_card": _group(card_digits, sizes, rng.choice([" ", "-", ""])),
        "ssn": f"{ssn_area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}",
        "ip": rng.choice(
            [
                ".".join(str(rng.randrange(1, 255)) for _ in range(4)),
                f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}",
            ]
        ),
        "url": f"https://{rng.choice(DOMAINS)}/{rng.choice(WORDS)}?id={rng.randrange(10000)}",
        "iban": _iban(rng),
    }


def _decoy(rng: random.Random) -> str:
    bad_card = _luhn_complete("4", 16, rng)
    bad_card = bad_card[:-1] + str((int(bad_card[-1]) + 1) % 10)
    return rng.choice(
        [
            f"card {_group(bad_card, (4, 4, 4, 4), ' ')}",
            f"ref {rng.choice(['000', '666', '912'])}-{rng.randrange(10, 100)}-{rng.randrange(1000, 10000)}",
            f"order #{rng.randrange(10000, 99999)}",
            f"on 2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            f"version {rng.randrange(1, 9)}.{rng.randrange(20)}.{rng.randrange(20)}",
            f"costs ${rng.randrange(1, 999)}.{rng.randrange(100):02d}",
            f"at {rng.randrange(24):02d}:{rng.randrange(60):02d}",
            f"account {_iban(rng, valid=False)}",
            f"{rng.randrange(2, 40)} items",
        ]
    )


def corpus() -> list[tuple[str, list[tuple[str, int, int]]]]:
    rng = random.Random(SEED)
    texts = []
    for _ in range(N_TEXTS):
        parts: list[str] = []
        gold: list[tuple[str, int, int]] = []
        cursor = 0
        for _ in range(rng.randrange(2, 6)):
            if rng.random() < 0.6:
                kind, value = rng.choice(sorted(_values(rng).items()))
                prefix = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)}: "
                gold.append((kind, cursor + len(prefix), cursor + len(prefix) + len(value)))
                chunk = f"{prefix}{value}. "
            else:
                chunk = f"{rng.choice(WORDS).capitalize()} {_decoy(rng)} {rng.choice(WORDS)}. "
            parts.append(chunk)
            cursor += len(chunk)
        texts.append(("".join(parts), gold))
    return texts


def _dedupe(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    keep = []
    for s in spans:
        inside = any(
            o is not s and o[1] <= s[1] and s[2] <= o[2] and (o[2] - o[1]) > (s[2] - s[1])
            for o in spans
        )
        if not inside:
            keep.append(s)
    return keep


def score(
    gold_all: list[list[tuple[str, int, int]]], pred_all: list[list[tuple[str, int, int]]]
) -> dict[str, object]:
    per: dict[str, list[int]] = {}
    for gold, pred in zip(gold_all, pred_all, strict=True):
        pred = _dedupe(pred)
        for kind, s, e in gold:
            hit = any(k == kind and ps < e and s < pe for k, ps, pe in pred)
            per.setdefault(kind, [0, 0, 0])[0 if hit else 2] += 1
        for kind, s, e in pred:
            if not any(k == kind and gs < e and s < ge for k, gs, ge in gold):
                per.setdefault(kind, [0, 0, 0])[1] += 1

    def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        }

    totals = [sum(v[i] for v in per.values()) for i in range(3)]
    return {"micro": prf(*totals), "per_kind": {k: prf(*v) for k, v in sorted(per.items())}}


def run_guard(texts: list[str]) -> tuple[list[list[tuple[str, int, int]]], float]:
    t0 = time.perf_counter()
    out = [
        [(KIND.get(f.kind, f.kind), f.start, f.end) for f in find_pii(t, PII_TYPES)] for t in texts
    ]
    return out, time.perf_counter() - t0


def build_presidio(model_dir: str):  # type: ignore[no-untyped-def]
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UrlRecognizer,
        UsSsnRecognizer,
    )

    spacy.blank("en").to_disk(model_dir)
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model_dir}])
    registry = RecognizerRegistry(supported_languages=["en"])
    for rec in (
        EmailRecognizer,
        PhoneRecognizer,
        CreditCardRecognizer,
        UsSsnRecognizer,
        IpRecognizer,
        UrlRecognizer,
        IbanRecognizer,
    ):
        registry.add_recognizer(rec())
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


def run_presidio(
    texts: list[str], analyzer, threshold: float
) -> tuple[list[list[tuple[str, int, int]]], float]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = []
    for t in texts:
        results = analyzer.analyze(text=t, language="en", score_threshold=threshold)
        out.append(
            [
                (PRESIDIO_KIND[r.entity_type], r.start, r.end)
                for r in results
                if r.entity_type in PRESIDIO_KIND
            ]
        )
    return out, time.perf_counter() - t0


def main() -> None:
    data = corpus()
    texts = [t for t, _ in data]
    gold = [g for _, g in data]
    guard_pred, guard_s = run_guard(texts)
    result: dict[str, object] = {
        "bench": "pii_vs_presidio",
        "n_texts": len(texts),
        "n_gold": sum(len(g) for g in gold),
    }
    if importlib.util.find_spec("presidio_analyzer") is None:
        result["crucible_guard"] = {
            **score(gold, guard_pred),
            "texts_per_s": round(len(texts) / guard_s, 1),
        }
        result["presidio"] = "not installed (it is in the workspace dev group)"
        print(json.dumps(result))
        return
    # Presidio's email recognizer asks tldextract for the public-suffix list; offline it logs
    # the failed download and falls back to the bundled snapshot.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        analyzer = build_presidio(str(Path(tmp) / "blank_en"))
        analyzer.analyze(text="warm up ann@example.com", language="en")
        pres_pred_05, _ = run_presidio(texts, analyzer, 0.5)
        pres_times, guard_times = [], [guard_s]
        for _ in range(REPEATS):
            pres_pred, pres_s = run_presidio(texts, analyzer, 0.0)
            pres_times.append(pres_s)
            guard_times.append(run_guard(texts)[1])
    guard_s, pres_s = min(guard_times), min(pres_times)
    result["crucible_guard"] = {
        **score(gold, guard_pred),
        "texts_per_s": round(len(texts) / guard_s, 1),
    }
    result["presidio"] = {
        "version": importlib.metadata.version("presidio-analyzer"),
        "threshold_0": score(gold, pres_pred),
        "threshold_0.5": score(gold, pres_pred_05),
        "texts_per_s": round(len(texts) / pres_s, 1),
    }
    result["throughput_ratio"] = round(pres_s / guard_s, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
