"""The alert sinks each environment names: a JSON-lines file, and a Slack incoming webhook
(slack_sdk's own client, posting to a local HTTP server that stands in for Slack)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dataplatform.automation.alerts import JsonLinesSink, SlackSink, alert_sink
from dataplatform.settings import resolve_settings

ALERT = {"kind": "run_failed", "summary": "Run 1a2b3c4d of ingest_sources failed for 2026-01-02", "assets": ["raw/shop/orders"]}


class FakeSlack(BaseHTTPRequestHandler):
    statuses: list = []  # one a request, first to last; 200 once they run out
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FakeSlack.received.append(json.loads(body))
        status = FakeSlack.statuses.pop(0) if FakeSlack.statuses else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"invalid_token")

    def log_message(self, *args):
        pass


@pytest.fixture
def slack():
    server = HTTPServer(("127.0.0.1", 0), FakeSlack)
    FakeSlack.received, FakeSlack.statuses = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXXX"
    server.shutdown()


def test_the_environment_names_the_sink(tmp_path):
    def sink(**environ):
        return alert_sink(resolve_settings({"PLATFORM_LOCAL_DIR": str(tmp_path), **environ}))

    assert sink() == JsonLinesSink(tmp_path / "alerts.jsonl")
    assert sink(PLATFORM_ALERTS_FILE=str(tmp_path / "a.jsonl")) == JsonLinesSink(tmp_path / "a.jsonl")
    assert sink(PLATFORM_ALERTS_SLACK_WEBHOOK="https://hooks.slack.com/x") == SlackSink("https://hooks.slack.com/x")


def test_json_lines_appends_one_alert_a_line(tmp_path):
    sink = JsonLinesSink(tmp_path / "dev" / "alerts.jsonl")
    sink.deliver(ALERT)
    sink.deliver({**ALERT, "kind": "freshness_failed"})
    assert [json.loads(line)["kind"] for line in sink.path.read_text().splitlines()] == ["run_failed", "freshness_failed"]


def test_slack_gets_the_summary(slack):
    SlackSink(slack).deliver(ALERT)
    assert FakeSlack.received == [{"text": ALERT["summary"]}]


def test_a_server_error_is_retried_and_delivered_once(slack):
    FakeSlack.statuses = [503, 500]
    SlackSink(slack).deliver(ALERT)
    assert FakeSlack.received == [{"text": ALERT["summary"]}] * 3  # two refused, the third taken


def test_a_refused_delivery_raises_with_the_alert_so_the_tick_shows_it(slack):
    FakeSlack.statuses = [403]
    with pytest.raises(RuntimeError, match=r"Slack refused the alert \(403: invalid_token\); not delivered: Run 1a2b3c4d"):
        SlackSink(slack).deliver(ALERT)
    assert len(FakeSlack.received) == 1  # a refusal is not retried: the webhook is wrong


def test_an_unreachable_slack_raises_with_the_alert(slack):
    closed = slack.replace(slack.split("/")[2], "127.0.0.1:9")  # the discard port: nothing listens
    with pytest.raises(RuntimeError, match=r"Slack could not be reached .*; not delivered: Run 1a2b3c4d"):
        SlackSink(closed, retries=0).deliver(ALERT)
