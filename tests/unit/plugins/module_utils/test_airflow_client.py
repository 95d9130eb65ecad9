"""AirflowClient's authentication and answer handling, against FakeOpener: a test double for
ansible.module_utils.urls.open_url that routes each request to a scripted answer and records it."""

from __future__ import annotations

import io
import json

from urllib.error import HTTPError

import pytest

from ansible_collections.airflow_k8s.platform.plugins.module_utils.airflow_api import (
    AirflowClient,
    AirflowError,
    AirflowHTTPError,
)

URL = "http://airflow.test:8080"
RUN_PATH = "/api/v2/dags/first_script/dagRuns/r1"


class FakeResponse:
    def __init__(self, status, body):
        self.status = status
        self._body = body if isinstance(body, bytes) else json.dumps(body).encode()

    def getcode(self):
        return self.status

    def read(self):
        return self._body


class FakeOpener:
    """Stands in for ansible.module_utils.urls.open_url: routes (method, path) to scripted answers.

    ``routes`` maps "METHOD /path" to a callable taking the request's headers and returning
    (status, body). Error statuses are raised as HTTPError, as open_url does."""

    def __init__(self, routes):
        self.routes = routes
        self.requests = []

    def __call__(self, url, method, data, headers, **_kwargs):
        path = "/" + url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
        self.requests.append((method, path, headers.get("Authorization")))
        status, body = self.routes["%s %s" % (method, path)](headers)
        if status >= 400:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            raise HTTPError(url, status, "error", {}, io.BytesIO(raw))
        return FakeResponse(status, body)


def issuing(*tokens):
    """POST /auth/token: each login gets the next token; a login after the last is refused."""
    left = list(tokens)

    def login(_headers):
        return (201, {"access_token": left.pop(0)}) if left else (401, {"detail": "Invalid credentials"})
    return login


def accepting(token, body):
    """An endpoint that answers only the given bearer token; any other one has expired."""
    def answer(headers):
        if headers.get("Authorization") == "Bearer " + token:
            return 200, body
        return 401, {"detail": "Token has expired"}
    return answer


def airflow_3(**routes):
    table = {"GET /api/v2/version": lambda _headers: (200, {"version": "3.1.8"})}
    table.update({key.replace("_", " ", 1): value for key, value in routes.items()})
    return FakeOpener(table)


def client(opener):
    return AirflowClient(URL, username="ops", password="not-a-real-one", opener=opener)


def test_an_expired_jwt_is_renewed_once_and_the_call_repeated():
    opener = airflow_3(**{"POST_/auth/token": issuing("t1", "t2"),
                          "GET_" + RUN_PATH: accepting("t2", {"dag_run_id": "r1", "state": "running"})})
    connected = client(opener).connect()
    assert connected.get_run("first_script", "r1")["state"] == "running"
    assert opener.requests == [
        ("GET", "/api/v2/version", None),
        ("POST", "/auth/token", None),
        ("GET", RUN_PATH, "Bearer t1"),
        ("POST", "/auth/token", None),
        ("GET", RUN_PATH, "Bearer t2"),
    ]


def test_a_login_refused_on_renewal_is_one_line_naming_the_user():
    opener = airflow_3(**{"POST_/auth/token": issuing("t1"),
                          "GET_" + RUN_PATH: accepting("t2", {})})
    connected = client(opener).connect()
    with pytest.raises(AirflowHTTPError) as raised:
        connected.get_run("first_script", "r1")
    assert str(raised.value) == ("Airflow at http://airflow.test:8080 refused the credentials of user 'ops' "
                                 "(HTTP 401): check username and password")
    assert "not-a-real-one" not in str(raised.value)


def test_the_wait_stream_renews_an_expired_jwt_too():
    opener = airflow_3(**{"POST_/auth/token": issuing("t1", "t2"),
                          "GET_" + RUN_PATH + "/wait": accepting("t2", b'{"state": "success"}\n')})
    connected = client(opener).connect()
    stream = connected.open_stream(RUN_PATH + "/wait", {"interval": 1}, timeout=5)
    assert stream.read() == b'{"state": "success"}\n'
    assert [auth for _method, path, auth in opener.requests if path.endswith("/wait")] == ["Bearer t1", "Bearer t2"]


def test_text_where_json_was_expected_is_a_one_line_error_not_a_crash():
    login_page = b"<html>\n  <title>Sign in</title>\n</html>"
    opener = airflow_3(**{"POST_/auth/token": issuing("t1"),
                          "GET_/api/v2/dags/first_script": lambda _headers: (200, login_page)})
    connected = client(opener).connect()
    with pytest.raises(AirflowError) as raised:
        connected.get_dag("first_script")
    assert str(raised.value) == (
        "GET /api/v2/dags/first_script answered text, not JSON (HTTP 200: <html> <title>Sign in</title> "
        "</html>): check that url is the Airflow API server itself, not a proxy or login page in front of it")
