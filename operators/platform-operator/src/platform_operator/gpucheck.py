"""The AIService's `GPUReady` condition from its predictor pods' container statuses (pure).

A model service refuses to start when its GPU check fails (exit code 78, the reason in its last
log line), and the startup probe runs the same check and writes its reason to the termination
log; with `terminationMessagePolicy: FallbackToLogsOnError` either reaches the container's
`terminated.message`, which this module turns into a condition."""

from __future__ import annotations

import json

ISVC_POD_LABEL = "serving.kserve.io/inferenceservice"
CONTAINER = "kserve-container"
EXIT_GPU_CHECK = 78
MARK = "GPU check failed"


def _reason_text(terminated: dict) -> str:
    """The refusal line of a termination message (kit logs JSON lines), or a generic text."""
    lines = (terminated.get("message") or "").strip().splitlines()
    for line in reversed(lines):
        text = line.strip()
        try:
            doc = json.loads(text)
            text = str(doc.get("message", text)) if isinstance(doc, dict) else text
        except ValueError:
            pass
        if MARK in text:
            return text[text.index(MARK):][:1000]
    return f"{MARK} (exit code {terminated.get('exitCode')}); see the container's log"


def _failed(terminated: dict | None) -> bool:
    return bool(terminated) and (terminated.get("exitCode") == EXIT_GPU_CHECK or MARK in (terminated.get("message") or ""))


def predictor_pods(pods: list[dict], name: str) -> list[dict]:
    """The pods KServe made for the InferenceService `name`."""
    return [p for p in pods if ((p.get("metadata") or {}).get("labels") or {}).get(ISVC_POD_LABEL) == name]


def gpu_condition(pods: list[dict]) -> tuple[str, str, str]:
    """(status, reason, message): False/GPUCheckFailed when a predictor container stopped on the
    GPU check (now or as its last state), True/GPUCheckPassed once a container has started (its
    startup probe, the check, passed), else Unknown/GPUCheckPending."""
    started = 0
    for pod in pods:
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            if cs.get("name") != CONTAINER:
                continue
            for state in (cs.get("state") or {}, cs.get("lastState") or {}):
                if _failed(state.get("terminated")):
                    return "False", "GPUCheckFailed", _reason_text(state["terminated"])
            started += bool(cs.get("started"))
    if started:
        return "True", "GPUCheckPassed", f"the start-up GPU check passed ({started} container(s) started)"
    return "Unknown", "GPUCheckPending", "no predictor container has started yet"
