from __future__ import annotations

import base64
import json

import pytest

from crucible.guard import PII_TYPES, SECRET_TYPES, find_pii

ALNUM = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ"
JWT = ".".join(
    [
        base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        .decode()
        .rstrip("="),
        base64.urlsafe_b64encode(json.dumps({"sub": "1234567890"}).encode()).decode().rstrip("="),
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ]
)


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in find_pii(text)]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("ann.lee+tag@mail.example.co.uk", "email"),
        ("+44 20 7946 0958", "phone"),
        ("+33 1 42 68 53 00", "phone"),
        ("(212) 555-0123", "phone"),
        ("650-253-0000", "phone"),
        ("4111 1111 1111 1111", "credit_card"),
        ("5500-0000-0000-0004", "credit_card"),
        ("378282246310005", "credit_card"),
        ("123-45-6789", "ssn"),
        ("192.168.10.254", "ipv4"),
        ("2001:db8:85a3::8a2e:370:7334", "ipv6"),
        ("https://example.com/path?q=1", "url"),
        ("GB82 WEST 1234 5698 7654 32", "iban"),
        ("DE89370400440532013000", "iban"),
        ("AKIAIOSFODNN7EXAMPLE", "aws_access_key_id"),
        ("sk-proj-" + ALNUM[:40], "openai_api_key"),
        ("sk-ant-api03-" + ALNUM[:50], "anthropic_api_key"),
        ("ghp_" + ALNUM[:36], "github_token"),
        ("AIza" + ALNUM[:35], "google_api_key"),
        ("xoxb-" + "1234567890-" + ALNUM[:20], "slack_token"),
        ("sk_live_" + ALNUM[:24], "stripe_key"),
        ("hf_" + ALNUM[:34], "huggingface_token"),
        (JWT, "jwt"),
    ],
)
def test_each_kind_is_found_with_exact_value(value: str, kind: str) -> None:
    assert _kinds(f"Ça coûte 😀 — see {value} please") == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "ssn 000-12-3456",
        "ssn 666-12-3456",
        "ssn 912-12-3456",
        "ssn 123-00-4567",
        "ssn 123-45-0000",
        "iban GB82 WEST 1234 5698 7654 33",  # checksum fails
        "version 1.2.3.4.5 and 999.1.1.1",
        "at 12:30:45 on 2024-01-15",
        "order #12345 costs 19.99",
        "sk-short",
    ],
)
def test_invalid_shapes_are_not_reported(text: str) -> None:
    assert _kinds(text) == []


def test_offsets_are_character_offsets() -> None:
    text = "😀😀 日本 ann@example.org"
    (f,) = find_pii(text)
    assert (f.start, f.end) == (6, 21)
    assert text[f.start : f.end] == "ann@example.org"


def test_ssn_without_dashes_needs_context() -> None:
    assert _kinds("my SSN: 123456789") == [("ssn", "123456789")]
    assert _kinds("ticket 123456789") == []


def test_private_key_block_spans_to_end_line() -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----"
    assert _kinds(f"key:\n{block}\nthanks") == [("private_key", block)]


def test_jwt_needs_a_json_header() -> None:
    fake = "eyJub3Rqc29u." + JWT.split(".", 1)[1]
    assert _kinds(fake) == []


def test_types_filter() -> None:
    text = "ann@example.org 123-45-6789"
    assert [f.kind for f in find_pii(text, ["ssn"])] == ["ssn"]
    assert set(PII_TYPES).isdisjoint(SECRET_TYPES)
