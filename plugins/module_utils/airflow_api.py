# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.platform authors
# Apache License 2.0 (see LICENSE)
#
# Private to this collection: the interface may change without notice.

"""A small client for the Airflow REST API: version detection, authentication, and the calls
the dag_run module needs. Airflow 3 speaks ``/api/v2`` with a JWT from ``POST /auth/token``;
Airflow 2 speaks ``/api/v1`` with HTTP basic auth. Plain HTTP through ansible.module_utils.urls:
nothing to install on the target."""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl

from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.urls import SSLValidationError, open_url

USER_AGENT = "airflow_k8s.platform.dag_run"


class AirflowError(Exception):
    """Anything that stops a call; ``str()`` is the one-line message for the user."""

    def __init__(self, message, status=None, detail=None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class AirflowUnreachable(AirflowError):
    """No HTTP answer at all: connection refused or reset, DNS, socket timeout. Worth a retry while waiting."""


class AirflowHTTPError(AirflowError):
    """The server answered with an error status."""


def _detail_text(detail):
    """The server's own words from a FastAPI or connexion error body, on one line."""
    if isinstance(detail, dict):
        for key in ("detail", "title", "message", "error"):
            if detail.get(key):
                return _detail_text(detail[key])
        return json.dumps(detail, sort_keys=True)
    if isinstance(detail, list):  # FastAPI validation errors: [{"loc": [...], "msg": ...}]
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                where = ".".join(str(part) for part in item.get("loc", []))
                parts.append("%s: %s" % (where, item["msg"]) if where else item["msg"])
            else:
                parts.append(_detail_text(item))
        return "; ".join(parts)
    return " ".join(to_text(detail).split())


def version_tuple(version):
    """'3.1.8' -> (3, 1, 8); pre-release suffixes are ignored."""
    numbers = []
    for part in to_text(version).split("."):
        digits = re.match(r"\d*", part).group()
        if not digits:
            break
        numbers.append(int(digits))
        if digits != part:
            break
    return tuple(numbers)


class AirflowClient:
    """One Airflow API server. Call ``connect()`` once; every method raises AirflowError."""

    def __init__(self, url, username=None, password=None, token=None, validate_certs=True,
                 ca_path=None, timeout=30, api_version="auto", opener=open_url):
        self.url = url.rstrip("/")
        self.username = username
        self._password = password
        self._token = token
        self._login_token = None
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.api_version = None if api_version == "auto" else api_version
        self.airflow_version = None
        self.requests_sent = 0
        self._open = opener

    # -- connection and authentication ------------------------------------------------------

    @property
    def api_root(self):
        return "/api/" + self.api_version

    @property
    def supports_wait_stream(self):
        """The streaming /wait endpoint exists on Airflow 3.1 and newer."""
        return self.api_version == "v2" and version_tuple(self.airflow_version or "0") >= (3, 1)

    def connect(self):
        """Find the API version and the Airflow version, then authenticate."""
        self._detect_version()
        if self._token is None and self.api_version == "v2":
            self._login()
        return self

    def _detect_version(self):
        candidates = [self.api_version] if self.api_version else ["v2", "v1"]
        answers = []
        for candidate in candidates:
            # Any answer is information here: what is not Airflow's version says this is not Airflow.
            status, data = self._raw("GET", "/api/%s/version" % candidate, authenticate=False,
                                     accept_status=tuple(range(100, 600)))
            if status == 200 and isinstance(data, dict) and data.get("version"):
                self.api_version = candidate
                self.airflow_version = to_text(data["version"])
                return
            answers.append("/api/%s/version answered HTTP %s" % (candidate, status))
        raise AirflowError(
            "%s does not look like an Airflow API server (%s): check url, it should be the address "
            "of the Airflow API server or webserver, without /api/..." % (self.url, ", ".join(answers)))

    def _login(self):
        if not (self.username and self._password):
            raise AirflowError("Airflow %s at %s needs a token, or username and password to get one"
                               % (self.airflow_version, self.url))
        status, data = self._raw("POST", "/auth/token", body={"username": self.username, "password": self._password},
                                 authenticate=False, accept_status=(200, 201, 401, 403))
        if status in (401, 403):
            raise AirflowHTTPError(self._refused_message(status), status=status)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise AirflowError("POST %s/auth/token answered without an access_token" % self.url)
        self._login_token = token

    def _refused_message(self, status=401):
        if self._token:
            return "Airflow at %s refused the token (HTTP %s): check it, or get a new one" % (self.url, status)
        return ("Airflow at %s refused the credentials of user '%s' (HTTP %s): check username and password"
                % (self.url, self.username, status))

    def _auth_header(self):
        if self._token:
            return "Bearer " + self._token
        if self.api_version == "v2":
            return "Bearer " + self._login_token
        if self.username and self._password:
            pair = "%s:%s" % (self.username, self._password)
            return "Basic " + to_native(base64.b64encode(pair.encode("utf-8")))
        return None

    # -- HTTP -------------------------------------------------------------------------------

    def request(self, method, path, body=None, query=None, accept_status=(200,), timeout=None,
                accept="application/json"):
        """An authenticated API call; logs in again once when a JWT has expired (401)."""
        status, data = self._relogin_once(lambda: self._raw(
            method, path, body, query, accept_status=accept_status + (401,), timeout=timeout, accept=accept))
        if status == 401 and 401 not in accept_status:
            raise AirflowHTTPError(self._refused_message(), status=401)
        if accept == "application/json" and isinstance(data, str):
            # A proxy's or a login page's HTML where the API answers JSON: not an answer we can read.
            raise AirflowError("%s %s answered text, not JSON (HTTP %s: %s): check that url is the Airflow API "
                               "server itself, not a proxy or login page in front of it"
                               % (method, path, status, " ".join(data.split())[:120]), status=status)
        return status, data

    def open_stream(self, path, query, timeout):
        """GET a streaming endpoint; returns the open response to read lines from."""
        def call():
            try:
                return 200, self._send("GET", path, None, query, authenticate=True, timeout=timeout)
            except HTTPError as error:
                return error.code, error
        status, answer = self._relogin_once(call)
        if isinstance(answer, HTTPError):
            data = self._decode(answer.read() if answer.fp is not None else b"")
            if status == 401:
                raise AirflowHTTPError(self._refused_message(), status=401)
            raise self._http_error("GET", path, status, data)
        return answer

    def _relogin_once(self, call):
        """Run ``call`` (returning status first); on a 401 with an expired JWT, log in and run it again."""
        answer = call()
        if answer[0] == 401 and self._login_token is not None:
            self._login()
            answer = call()
        return answer

    def _raw(self, method, path, body=None, query=None, authenticate=True, accept_status=(200,), timeout=None,
             accept="application/json"):
        try:
            response = self._send(method, path, body, query, authenticate, timeout, accept)
            status = response.getcode()
            raw = response.read()
        except HTTPError as error:
            status = error.code
            raw = error.read() if error.fp is not None else b""
        data = self._decode(raw)
        if status not in accept_status:
            raise self._http_error(method, path, status, data)
        return status, data

    def _http_error(self, method, path, status, data):
        """The error for an answer the caller did not expect, in the server's own words."""
        if status == 403:
            # Airflow 2 with basic auth answers a wrong password with 403, not 401.
            hint = ("check username and password (Airflow 2 answers a wrong password with 403 too), and "
                    "that the user's role may do this" if self.api_version == "v1" and not self._token
                    else "give the user a role that may do this")
            return AirflowHTTPError(
                "Airflow at %s forbids %s %s to %s (HTTP 403%s): %s"
                % (self.url, method, path, "this token" if self._token else "user '%s'" % self.username,
                   self._suffix(data), hint), status=403, detail=data)
        return AirflowHTTPError("%s %s failed: HTTP %s%s" % (method, path, status, self._suffix(data)),
                                status=status, detail=data)

    @staticmethod
    def _suffix(data):
        text = _detail_text(data) if data not in (None, "", {}) else ""
        return " (%s)" % text[:500] if text else ""

    @staticmethod
    def _decode(raw):
        text = to_text(raw or b"", errors="surrogate_or_strict")
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text

    def _send(self, method, path, body, query, authenticate, timeout, accept="application/json"):
        url = self.url + quote(path, safe="/:~@!$&'()*+,;=%")
        if query:
            url += "?" + urlencode(query, doseq=True)
        headers = {"Accept": accept}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        if authenticate:
            header = self._auth_header()
            if header:
                headers["Authorization"] = header
        self.requests_sent += 1
        try:
            return self._open(url, method=method, data=data, headers=headers, timeout=timeout or self.timeout,
                              validate_certs=self.validate_certs, ca_path=self.ca_path, http_agent=USER_AGENT,
                              follow_redirects="safe", force_basic_auth=False)
        except HTTPError:
            raise
        except SSLValidationError as error:
            raise AirflowError(self._tls_message(error))
        except URLError as error:
            reason = error.reason
            if isinstance(reason, ssl.SSLError):
                raise AirflowError(self._tls_message(reason))
            raise AirflowUnreachable("Cannot reach Airflow at %s: %s. Check url, and that the API server runs "
                                     "and is reachable from this host" % (self.url, to_native(reason)))
        except (socket.timeout, TimeoutError):
            raise AirflowUnreachable("Airflow at %s did not answer %s %s within %ss"
                                     % (self.url, method, path, timeout or self.timeout))
        except (ConnectionError, HTTPException, OSError) as error:
            raise AirflowUnreachable("Connection to Airflow at %s failed during %s %s: %s"
                                     % (self.url, method, path, to_native(error) or error.__class__.__name__))

    def _tls_message(self, error):
        return ("TLS verification of %s failed (%s): set ca_path to the CA bundle that signed the server's "
                "certificate, or validate_certs=false if you accept an unverified connection"
                % (self.url, " ".join(to_native(error).split())[:300]))

    # -- the calls dag_run needs ------------------------------------------------------------

    def _dag_path(self, dag_id, *rest):
        return "/".join([self.api_root, "dags", quote(dag_id, safe="")] + [quote(p, safe="") for p in rest])

    def get_dag(self, dag_id):
        """The DAG, or None while it is unknown (not parsed yet, or no such DAG)."""
        status, data = self.request("GET", self._dag_path(dag_id), accept_status=(200, 404))
        return data if status == 200 else None

    def _all_pages(self, path, key):
        """Every item of a paged list endpoint (``{key: [...], "total_entries": N}``)."""
        items = []
        while True:
            _status, data = self.request("GET", path, query={"limit": 100, "offset": len(items)})
            page = (data or {}).get(key, [])
            items.extend(page)
            if not page or len(items) >= (data or {}).get("total_entries", 0):
                return items

    def import_errors(self):
        return self._all_pages(self.api_root + "/importErrors", "import_errors")

    def unpause(self, dag_id):
        self.request("PATCH", self._dag_path(dag_id), body={"is_paused": False}, query={"update_mask": "is_paused"})

    def get_run(self, dag_id, run_id):
        status, data = self.request("GET", self._dag_path(dag_id, "dagRuns", run_id), accept_status=(200, 404))
        return data if status == 200 else None

    def trigger(self, dag_id, body):
        """Trigger a run; returns None when the run id already exists (HTTP 409)."""
        status, data = self.request("POST", self._dag_path(dag_id, "dagRuns"), body=body, accept_status=(200, 409))
        return data if status == 200 else None

    def clear_failed_tasks(self, dag_id, run_id):
        """Clear a run's failed tasks and those their failure kept from running (upstream_failed): the scheduler
        runs them again and the run goes back to queued.

        Airflow 3 clears a run's failed tasks through the run's own clear endpoint; Airflow 2's clears every task
        of the run, so there the DAG's clearTaskInstances does it, with the run reset."""
        if self.api_version == "v1":
            self.request("POST", self._dag_path(dag_id, "clearTaskInstances"),
                         body={"dry_run": False, "dag_run_id": run_id, "only_failed": True, "reset_dag_runs": True})
        else:
            self.request("POST", self._dag_path(dag_id, "dagRuns", run_id, "clear"),
                         body={"dry_run": False, "only_failed": True})

    def task_instances(self, dag_id, run_id):
        return self._all_pages(self._dag_path(dag_id, "dagRuns", run_id, "taskInstances"), "task_instances")

    def task_log(self, dag_id, run_id, task_id, try_number, map_index=-1):
        """The log of one try: a list of structured entries (Airflow 3) or a text (Airflow 2)."""
        path = self._dag_path(dag_id, "dagRuns", run_id, "taskInstances", task_id, "logs", str(try_number))
        query = {"full_content": "true", "map_index": map_index}
        if self.api_version == "v1":
            # Airflow 2 answers JSON with a Python repr of (host, text) tuples; text/plain is plain.
            status, data = self.request("GET", path, query=query, accept_status=(200, 404), accept="text/plain")
            return to_text(data) if status == 200 and data is not None else ""
        status, data = self.request("GET", path, query=query, accept_status=(200, 404))
        return (data or {}).get("content", []) if status == 200 else []

    def wait_stream_path(self, dag_id, run_id):
        return self._dag_path(dag_id, "dagRuns", run_id, "wait")

    def ui_url(self, dag_id, run_id):
        if self.api_version == "v2":
            return "%s/dags/%s/runs/%s" % (self.url, quote(dag_id, safe=""), quote(run_id, safe=""))
        return "%s/dags/%s/grid?%s" % (self.url, quote(dag_id, safe=""), urlencode({"dag_run_id": run_id}))
