# Copyright: airflow_k8s.platform contributors
# Apache License 2.0 (see LICENSE)
"""What another tool's error message means: a checksum that did not match, credentials refused, a TLS
mismatch, nothing there, or no way to reach the server.

The roles turn a Docker Engine's, a registry's or a download's failure into a message that says what
to do; which message depends on the kind of failure, told here from the words those tools use
(tests/unit/plugins/module_utils/fixtures/tool-failures.json holds the real messages this is tested
against). Anything else is "other", and the roles then show the tool's own words.
"""

from __future__ import annotations

import re

# get_url's, and the same words from other downloaders: what arrived is not what was pinned.
CHECKSUM = re.compile(r"(?i)checksum .*did not match|checksum mismatch|sha256 mismatch")
REFUSED = re.compile(r"(?i)unauthori[sz]ed|incorrect username or password|denied|authentication required|"
                     r"no basic auth credentials")
TLS = re.compile(r"(?i)server gave http response to https client|x509:|certificate|tls: ")
NOT_FOUND = re.compile(r"(?i)not found|manifest unknown|no such image|repository does not exist")
# The request never reached its server: no DNS, no route, nothing listening, no answer.
UNREACHABLE = re.compile(r"(?i)no such host|could not resolve|name or service not known|temporary failure in name "
                         r"resolution|network is unreachable|no route to host|connection refused|connection reset|"
                         r"i/o timeout|timed out")
KINDS = (("checksum", CHECKSUM), ("refused", REFUSED), ("tls", TLS), ("not-found", NOT_FOUND), ("unreachable", UNREACHABLE))
# community.docker's build error: "Error building X - code: N, message: <the Engine's>, logs: [<the build's>]".
# The build's own output (a RUN step's) is not the Engine's reason, so it is left out of the reading.
BUILD_MESSAGE = re.compile(r"^Error building .*? - code: [^,]*, message: (?P<message>.*?), logs: \[", re.DOTALL)


def engine_message(message: str) -> str:
    """The part of ``message`` that is the tool's reason (for a build, without the build's log)."""
    build = BUILD_MESSAGE.match(message)
    return build.group("message") if build else message


def failure_kind(message) -> str:
    """checksum, refused, tls, not-found, unreachable or other."""
    reason = engine_message(str(message or ""))
    return next((kind for kind, words in KINDS if words.search(reason)), "other")


def one_line(message, length: int = 300) -> str:
    """The message on one line, white space collapsed, cut to ``length`` characters with an ellipsis."""
    text = " ".join(str(message or "").split())
    return text if len(text) <= length else text[:max(length - 3, 0)].rstrip() + "..."


def reason(message) -> str:
    """The innermost clause, what the server said in the end: "no basic auth credentials",
    "connection refused", "401 Unauthorized"."""
    text = one_line(engine_message(str(message or "")), length=10000).rstrip(' )"\'.')
    return text.rsplit(": ", 1)[-1].strip(' ("\'') if text else ""


def describe(message, length: int = 300) -> dict:
    return {"kind": failure_kind(message), "line": one_line(message, length), "reason": reason(message)}
