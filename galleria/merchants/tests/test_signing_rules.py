"""The canonical form of a signed request target (merchants/rules.py), and the copy of it in docs/api.md."""

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galleria.merchants import rules

DOC = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text()


@pytest.mark.parametrize(
    ("target", "canonical"),
    [
        ("/api/v1/pos/sales", "/api/v1/pos/sales"),
        ("/api/v1/pos/sales/A=1/refunds", "/api/v1/pos/sales/A%3D1/refunds"),
        ("/api/v1/pos/sales/A%3d1", "/api/v1/pos/sales/A%3D1"),
        ("/x/a;b", "/x/a%3Bb"),
        ("/x/[1]", "/x/%5B1%5D"),
        ("/x/%7E", "/x/~"),
        ("/x/%7e", "/x/~"),
        ("/x/~", "/x/~"),
        ("/x/%c3%bc", "/x/%C3%BC"),
        ("/x/ü", "/x/%C3%BC"),
        ("/x/a%20b", "/x/a%20b"),
        ("/x/a+b", "/x/a%2Bb"),  # a plus in a path is a plus
        ("/x/%2F", "/x//"),  # what a WSGI server decodes
        ("/x/100%", "/x/100%25"),  # a % that starts no escape is a literal %
        ("/x?", "/x"),
        ("/x?&&", "/x"),
        ("/x?code=138 0013&x=a+b%7e", "/x?code=138%200013&x=a%20b~"),
        ("/x?a&b=&c==", "/x?a=&b=&c=%3D"),
        ("/x?q=a/b&r=[1]&s=ü", "/x?q=a%2Fb&r=%5B1%5D&s=%C3%BC"),
        ("/x?b=2&a=1", "/x?b=2&a=1"),  # the order as sent
    ],
)
def test_canonical_target(target: str, canonical: str) -> None:
    assert rules.canonical_target_of(target) == canonical


def test_canonical_target_from_a_decoded_path_and_a_raw_query() -> None:
    assert rules.canonical_target(path="/api/v1/pos/sales/Eü=1".encode(), query=b"x=%7e") == (
        "/api/v1/pos/sales/E%C3%BC%3D1?x=~"
    )


def test_a_signature_is_valid_for_any_of_the_given_forms_of_the_target() -> None:
    sig = rules.sign(secret="s", method="GET", path="/x/A=1", timestamp="1", nonce="n" * 8, body=b"")
    common: dict[str, Any] = {
        "secret": "s",
        "signature": sig,
        "method": "get",
        "timestamp": "1",
        "nonce": "n" * 8,
        "body": b"",
    }
    assert rules.signature_valid(paths=[b"/x/A=1", b"/x/A%3D1"], **common)
    assert rules.signature_valid(paths=[b"/x/A%3D1", "/x/A=1"], **common)
    assert not rules.signature_valid(paths=[b"/x/A%3D1"], **common)
    assert not rules.signature_valid(paths=[], **common)
    assert not rules.signature_valid(paths=[b"/x/A=1"], **{**common, "body": b"{}"})


def _doc_canonical():
    """The `canonical()` of the Python example in docs/api.md, run as written."""
    source = re.search(r"\n(def canonical\(target\):\n(?:    .*\n|\n)*?)\n\ndef ", DOC)
    assert source, "docs/api.md lost its canonical() example"
    namespace = {"quote": quote, "unquote_to_bytes": unquote_to_bytes}
    exec(source.group(1), namespace)  # our own documentation
    return namespace["canonical"]


TARGET_TEXT = st.text(alphabet=st.sampled_from(list("aZ09-._~/%+=&;:@!$'()*,[] ?#\"üé中%7e%2F%C3")), max_size=40)


@given(path=TARGET_TEXT, query=TARGET_TEXT)
def test_the_documented_python_canonical_is_the_servers(path: str, query: str) -> None:
    target = "/" + path.replace("?", "") + ("?" + query if query else "")
    assert _doc_canonical()(target) == rules.canonical_target_of(target)
