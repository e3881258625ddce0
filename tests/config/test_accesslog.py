"""The access log keeps no address, agent or exact time for respondents and kiosks."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from config.accesslog import PrivateAccessLogger


def _line(path: str, query: str = "", method: str = "POST") -> str:
    cfg = Config()
    cfg.set("logger_class", "config.accesslog.PrivateAccessLogger")
    cfg.set("access_log_format", '%(h)s %(t)s "%(r)s" %(s)s "%(f)s" "%(a)s" %(q)s %({x-real-ip}i)s')
    logger = PrivateAccessLogger(cfg)
    raw = path + (f"?{query}" if query else "")
    environ = {
        "REMOTE_ADDR": "203.0.113.9",
        "REQUEST_METHOD": method,
        "RAW_URI": raw,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_USER_AGENT": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1)",
        "HTTP_REFERER": "https://mail.example.com/inbox",
    }
    req = SimpleNamespace(headers=[("X-REAL-IP", "203.0.113.9")])
    resp = SimpleNamespace(status="302 Found", sent=0, headers=[])
    atoms = logger.atoms(resp, req, environ, timedelta(milliseconds=12))
    return cfg.access_log_format % atoms


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/s/Ab12Cd/", "/s/Ab12Cd/"),
        ("/i/eyJtIjoyfQ.sig/", "/i/…/"),
        ("/u/WzEsImFAYi5jbyJd.sig/", "/u/…/"),
        ("/k/device-token-123/responses/", "/k/…/responses/"),
        ("/c/demo/coffee/confirm/eyJlIjoiYUBiLmNvIn0.sig/", "/c/demo/coffee/confirm/…/"),
        ("/c/demo/coffee/invitation/tok.sig/", "/c/demo/coffee/invitation/…/"),
        ("/c/demo/coffee/polls/4/", "/c/demo/coffee/polls/4/"),
    ],
)
def test_respondent_routes_keep_no_address_agent_token_or_second(path, shown):
    line = _line(path, query="score=3&e=a@b.co")
    assert "203.0.113.9" not in line
    assert "iPhone" not in line and "mail.example.com" not in line
    assert "a@b.co" not in line and "score" not in line
    assert f"POST {shown} HTTP/1.1" in line
    assert ":00:00 " in line  # the hour, not the second
    for secret in ("eyJ", "sig", "device-token", "tok."):
        assert secret not in line


def test_staff_routes_are_logged_in_full():
    line = _line("/staff/demo/surveys/", query="page=2", method="GET")
    assert line.startswith("203.0.113.9 ")
    assert "iPhone" in line and "page=2" in line
