"""The reference verifier receivers copy from the README: it accepts what Chorus signs and
nothing else, and refuses a replay."""

import re
import time
from pathlib import Path

from communities.webhooks import verify
from communities.webhooks.delivery import signature_header
from communities.webhooks.verify import signature_verify

ROOT = Path(__file__).resolve().parents[3]
SECRET = "whsec_test-secret"
BODY = b'{"id":"response.created:1","type":"response.created","data":{"emoji":"\xf0\x9f\x98\x80"}}'


def test_a_fresh_signature_of_the_exact_body_is_accepted():
    header = signature_header(secret=SECRET, body=BODY, timestamp=int(time.time()))
    assert signature_verify(secret=SECRET, header=header, body=BODY)
    assert signature_verify(secret=SECRET, header=header, body=BODY.decode())


def test_a_signature_older_than_five_minutes_is_a_replay_and_refused():
    # given a request signed six minutes ago, replayed now
    signed_at = int(time.time()) - 360
    header = signature_header(secret=SECRET, body=BODY, timestamp=signed_at)
    # then the verifier refuses it, though the signature itself is right
    assert not signature_verify(secret=SECRET, header=header, body=BODY)
    assert signature_verify(secret=SECRET, header=header, body=BODY, now=signed_at + 299)


def test_a_timestamp_far_in_the_future_is_refused():
    header = signature_header(secret=SECRET, body=BODY, timestamp=int(time.time()) + 3600)
    assert not signature_verify(secret=SECRET, header=header, body=BODY)


def test_another_secret_a_changed_body_or_a_changed_timestamp_is_refused():
    now = int(time.time())
    header = signature_header(secret=SECRET, body=BODY, timestamp=now)
    assert not signature_verify(secret="whsec_other", header=header, body=BODY)
    assert not signature_verify(secret=SECRET, header=header, body=BODY + b" ")
    moved = header.replace(f"t={now}", f"t={now - 1}")
    assert not signature_verify(secret=SECRET, header=moved, body=BODY)


def test_malformed_headers_are_refused():
    for header in ("", "t=,v1=", "v1=abc", "t=123", "t=abc,v1=00", "t=١٢٣,v1=00", "garbage"):
        assert not signature_verify(secret=SECRET, header=header, body=BODY)


def test_any_one_of_several_signatures_may_match():
    # (room for a second secret while one is being replaced)
    now = int(time.time())
    good = signature_header(secret=SECRET, body=BODY, timestamp=now).split(",v1=")[1]
    header = f"t={now},v1={'0' * 64},v1={good}"
    assert signature_verify(secret=SECRET, header=header, body=BODY)


def test_the_readme_shows_the_verifier_exactly_as_it_is():
    # given the README's Webhooks section
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)\n```", section, re.S)
    # then its Python block is verify.py's code, as written (after its docstring)
    source = Path(verify.__file__).read_text()
    code = source.split("from __future__ import annotations\n\n", 1)[1].rstrip("\n")
    assert blocks == [code]
    # and that code stands alone: run on its own, it verifies what Chorus signs
    namespace: dict = {}
    exec(compile(blocks[0], "README", "exec"), namespace)  # noqa: S102 - the README's own code
    header = signature_header(secret=SECRET, body=BODY, timestamp=int(time.time()))
    assert namespace["signature_verify"](secret=SECRET, header=header, body=BODY)
