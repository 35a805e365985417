"""A client for a ComfyUI server on loopback: queue API-format graphs, follow them, interrupt them.

HTTP goes through ``urllib`` with proxies disabled; events (``progress`` per node, the end of a run) come
over the ``/ws`` WebSocket opened with this client's id, so only this client's prompts report to it.
Every call is bounded by a timeout.
"""

from __future__ import annotations

import ipaddress
import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

from .websocket import WebSocket

HTTP_TIMEOUT_S = 30.0


class PromptRejected(AssertionError):
    """``POST /prompt`` answered 400: the graph failed validation (the message lists errors per node)."""


@dataclass
class PromptEvents:
    """What the WebSocket told about one prompt so far."""

    progress: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    finished: bool = False


@dataclass
class RunResult:
    """A finished prompt: ``status`` is "success", "error" or "interrupted"."""

    prompt_id: str
    status: str
    outputs: dict[str, dict]
    progress: dict[str, list[tuple[int, int]]]
    error: dict | None

    def traceback_tail(self, lines: int = 25) -> str:
        if self.error is None:
            return ""
        return "".join(self.error.get("traceback", [])[-lines:])

    def describe(self) -> str:
        """One readable paragraph: status, and the failing node and traceback tail for an error."""
        if self.error is None:
            return f"prompt {self.prompt_id}: {self.status}"
        return (
            f"prompt {self.prompt_id}: {self.status} in node {self.error.get('node_id')} "
            f"({self.error.get('node_type')}): {self.error.get('exception_type')}: "
            f"{self.error.get('exception_message')}\n{self.traceback_tail()}"
        )

    def images(self, node_id: str) -> list[dict]:
        """The images an output node (PreviewImage, SaveImage) reported."""
        return self.outputs.get(node_id, {}).get("images", [])

    def assert_success(self) -> RunResult:
        assert self.status == "success", self.describe()
        return self

    def progress_values(self, node_id: str) -> list[int]:
        return [value for value, _ in self.progress.get(node_id, [])]

    def assert_progress_complete(self, node_id: str, total: int) -> None:
        """The node's progress bar ran to ``total`` out of ``total``, never going back or past it.

        Core's ProgressBar may leave out updates (from 0.33 on it sends the first and the last, then one only
        after 100 ms and 0.5 % of the total), so the values in between are not all reported.
        """
        reported = self.progress.get(node_id, [])
        assert reported, f"node {node_id} reported no progress (nodes that did: {sorted(self.progress)})"
        assert {maximum for _, maximum in reported} == {total}, (
            f"node {node_id} progress maxima {reported}, expected {total}"
        )
        values = self.progress_values(node_id)
        assert values == sorted(values) and 1 <= values[0] and values[-1] == total, (
            f"node {node_id} progress values {values}, expected a rising sequence from 1 or more to {total}"
        )


def format_node_errors(answer: dict) -> str:
    """``POST /prompt``'s 400 answer as text: the overall error, then each node's errors."""
    error = answer.get("error", {})
    lines = [f"{error.get('message', 'prompt rejected')}: {error.get('details', '')}".rstrip(": ")]
    for node_id, node in answer.get("node_errors", {}).items():
        lines.append(f"node {node_id} ({node.get('class_type')}):")
        for reason in node.get("errors", []):
            lines.append(f"  - {reason.get('message')}: {reason.get('details')}")
    return "\n".join(lines)


class ComfyClient:
    """Talks to ``http://127.0.0.1:port``; use as a context manager (closes the WebSocket)."""

    def __init__(self, host: str, port: int) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the harness only talks to loopback addresses, not {host}")
        self.base_url = f"http://{host}:{port}"
        self.client_id = uuid.uuid4().hex
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._socket = WebSocket(host, port, f"/ws?clientId={self.client_id}")
        self._events: dict[str, PromptEvents] = {}

    def __enter__(self) -> ComfyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._socket.close()

    def get(self, path: str) -> dict:
        with self._http.open(self.base_url + path, timeout=HTTP_TIMEOUT_S) as answer:
            return json.load(answer)

    def get_bytes(self, path: str) -> tuple[str, bytes]:
        """The content type and body of ``GET path`` (``path`` already URL-quoted)."""
        with self._http.open(self.base_url + path, timeout=HTTP_TIMEOUT_S) as answer:
            return answer.headers.get_content_type(), answer.read()

    def post(self, path: str, payload: dict) -> dict:
        request = urllib.request.Request(
            self.base_url + path, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        with self._http.open(request, timeout=HTTP_TIMEOUT_S) as answer:
            body = answer.read()
        return json.loads(body) if body else {}

    def object_info(self) -> dict:
        return self.get("/object_info")

    def queue(self, api_prompt: dict) -> str:
        """Queue an API-format graph and return its prompt id; raise ``PromptRejected`` if any node is invalid.

        ComfyUI answers 200 and runs the valid outputs when only some are invalid: such a prompt is taken off
        the queue (and interrupted) and rejected too, so a test never passes on part of its graph.
        """
        try:
            answer = self.post("/prompt", {"prompt": api_prompt, "client_id": self.client_id})
        except urllib.error.HTTPError as error:
            if error.code != 400:
                raise
            raise PromptRejected(format_node_errors(json.load(error))) from None
        prompt_id = answer["prompt_id"]
        if answer.get("node_errors"):
            self.post("/queue", {"delete": [prompt_id]})
            self.interrupt(prompt_id)
            raise PromptRejected(format_node_errors(answer))
        self._events[prompt_id] = PromptEvents()
        return prompt_id

    def interrupt(self, prompt_id: str | None = None) -> None:
        """Interrupt the running prompt (only if it is ``prompt_id``, when given)."""
        self.post("/interrupt", {"prompt_id": prompt_id} if prompt_id else {})

    def wait_for_progress(self, prompt_id: str, node_id: str, value: int, timeout_s: float) -> None:
        """Block until ``node_id`` of ``prompt_id`` reported progress ``value`` (or more)."""
        deadline = time.monotonic() + timeout_s
        events = self._events[prompt_id]
        while not any(reached >= value for reached, _ in events.progress.get(node_id, [])):
            if events.finished:
                raise AssertionError(f"prompt {prompt_id} ended before node {node_id} reached {value}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {node_id} did not reach progress {value} in {timeout_s:.0f} s")
            self._read_events(deadline)

    def wait(self, prompt_id: str, timeout_s: float) -> RunResult:
        """Block until ``prompt_id`` ends and return its result.

        On timeout the prompt is interrupted (so the server can serve the next one) and ``TimeoutError``
        is raised.
        """
        deadline = time.monotonic() + timeout_s
        events = self._events[prompt_id]
        while not events.finished:
            if time.monotonic() > deadline:
                self.interrupt(prompt_id)
                raise TimeoutError(f"prompt {prompt_id} did not finish in {timeout_s:.0f} s; interrupted it")
            self._read_events(deadline)
        entry = self.get(f"/history/{prompt_id}")[prompt_id]
        messages = entry["status"]["messages"]
        names = [name for name, _ in messages]
        status = "interrupted" if "execution_interrupted" in names else entry["status"]["status_str"]
        error = next((data for name, data in messages if name == "execution_error"), None)
        return RunResult(prompt_id, status, entry.get("outputs", {}), events.progress, error)

    def run(self, api_prompt: dict, timeout_s: float) -> RunResult:
        """Queue ``api_prompt`` and wait for it."""
        return self.wait(self.queue(api_prompt), timeout_s)

    def _read_events(self, deadline: float) -> None:
        """Record the WebSocket messages that arrive within a second (or until ``deadline``)."""
        message = self._socket.receive(max(0.0, min(1.0, deadline - time.monotonic())))
        if not isinstance(message, str):  # None (nothing arrived) or a binary preview
            return
        event = json.loads(message)
        data = event.get("data", {})
        events = self._events.get(data.get("prompt_id"))
        if events is None:
            return
        if event["type"] == "progress":
            events.progress.setdefault(str(data["node"]), []).append((data["value"], data["max"]))
        elif event["type"] == "executing" and data.get("node") is None:
            events.finished = True  # sent after the run's history entry is written
