"""The GPUReady condition from predictor pod statuses (pure), the startup probe that feeds it,
and the pod-event handler that writes it onto the AIService."""

import json

from conftest import kopf_kwargs
from k8s_schemas import validate_inference_service
from test_handlers import pool, reconcile, service, stored  # noqa: F401 (pool: fixture)

from platform_operator import handlers
from platform_operator.conditions import find
from platform_operator.gpucheck import gpu_condition
from platform_operator.models import AIServiceSpec
from platform_operator.render import Owner, inference_service

REFUSAL = ("GPU check failed: AUDIO_DEVICE=cuda cannot be served: CTranslate2 4.8.5 cannot use the NVIDIA "
           "GeForce RTX 5060 Ti (sm_120, 16 GB) (get_cuda_device_count() is 0). Fix: use the image")
LOG_LINE = json.dumps({"ts": "2026-11-30T08:00:00.000Z", "level": "CRITICAL", "service": "audio",
                       "logger": "kit.gpu", "message": REFUSAL})


def pod(name, owner="audio", **container):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ai-platform",
                         "labels": {"serving.kserve.io/inferenceservice": owner}},
            "status": {"containerStatuses": [{"name": "kserve-container", "ready": False, "started": False,
                                              **container}]}}


CRASHLOOP = {"state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 78, "reason": "Error",
                                          "message": "loading...\n" + LOG_LINE + "\n"}}}
PROBE_KILLED = {"state": {"terminated": {"exitCode": 137, "reason": "Error", "message": REFUSAL}}}


def test_refusal_in_the_last_state_is_a_failed_check_with_its_reason():
    assert gpu_condition([pod("a-1", **CRASHLOOP)]) == ("False", "GPUCheckFailed", REFUSAL)


def test_a_startup_probe_kill_carries_the_reason_it_wrote():
    assert gpu_condition([pod("a-1", **PROBE_KILLED)]) == ("False", "GPUCheckFailed", REFUSAL)


def test_exit_78_without_a_readable_message_still_fails_the_check():
    status = gpu_condition([pod("a-1", state={"terminated": {"exitCode": 78, "message": ""}})])
    assert status == ("False", "GPUCheckFailed", "GPU check failed (exit code 78); see the container's log")


def test_other_crashes_are_not_blamed_on_the_gpu():
    oom = pod("a-1", state={"waiting": {"reason": "CrashLoopBackOff"}},
              lastState={"terminated": {"exitCode": 137, "reason": "OOMKilled", "message": ""}})
    assert gpu_condition([oom]) == ("Unknown", "GPUCheckPending", "no predictor container has started yet")


def test_started_containers_passed_the_check_and_an_empty_list_is_pending():
    assert gpu_condition([pod("a-1", started=True, ready=True)])[:2] == ("True", "GPUCheckPassed")
    assert gpu_condition([])[0] == "Unknown"
    # one replica refusing while another runs is still reported
    assert gpu_condition([pod("a-1", started=True), pod("a-2", **CRASHLOOP)])[1] == "GPUCheckFailed"


def test_gpu_services_of_kit_images_get_the_check_as_startup_probe():
    owner = Owner("audio", "ai-platform", "u")
    isvc = inference_service(owner, AIServiceSpec.model_validate(
        {"task": "transcription", "image": "ai-platform/audio:gpu", "gpu": {"memoryGB": 2}}))
    validate_inference_service(isvc)
    (container,) = isvc["spec"]["predictor"]["containers"]
    assert container["startupProbe"]["exec"]["command"] == [
        "python", "-m", "kit.gpu", "check", "--prefix", "AUDIO", "--frameworks", "ctranslate2",
        "--termination-log", "/dev/termination-log"]
    assert container["startupProbe"]["timeoutSeconds"] == 60
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    vlm = inference_service(owner, AIServiceSpec.model_validate(
        {"task": "statement-extraction", "image": "v:1", "gpu": {"memoryGB": 8}, "envPrefix": "STATEMENTS"}))
    assert vlm["spec"]["predictor"]["containers"][0]["startupProbe"]["exec"]["command"][5:8] == [
        "STATEMENTS", "--frameworks", "torch"]
    for other in ({"task": "transcription", "image": "a:1"},  # no GPU: nothing to check
                  {"task": "custom", "image": "c:1", "gpu": {"memoryGB": 1}}):  # an image without kit
        (c,) = inference_service(owner, AIServiceSpec.model_validate(other))["spec"]["predictor"]["containers"]
        assert "httpGet" in c["startupProbe"]


def _pod_event(client, memo, body):
    client.put(body)
    handlers.report_gpu_check(**kopf_kwargs(body, memo, type="MODIFIED", event={"type": "MODIFIED"}))


def test_pod_events_set_gpu_ready_on_the_aiservice_with_one_event(client, memo, pool):
    client.put(service("audio", "transcription", gpu=2))
    reconcile(client, memo, "audio")
    client.calls.clear()
    client.events.clear()
    _pod_event(client, memo, pod("audio-predictor-1", **CRASHLOOP))
    cond = find(stored(client, "audio")["status"]["conditions"], "GPUReady")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "GPUCheckFailed", REFUSAL)
    assert [(e[1], e[2]) for e in client.events] == [("Warning", "GPUCheckFailed")]
    _pod_event(client, memo, pod("audio-predictor-1", **CRASHLOOP))  # unchanged: no write, no event
    assert len(client.of("patch")) == 1 and len(client.events) == 1
    client.delete("v1", "Pod", "audio-predictor-1", "ai-platform")
    _pod_event(client, memo, pod("audio-predictor-2", started=True, ready=True))
    assert find(stored(client, "audio")["status"]["conditions"], "GPUReady")["status"] == "True"


def test_pod_events_of_cpu_services_and_strangers_write_nothing(client, memo):
    client.put(service("translation", "translation"))
    reconcile(client, memo, "translation")
    client.calls.clear()
    _pod_event(client, memo, pod("translation-predictor-1", owner="translation", **CRASHLOOP))
    _pod_event(client, memo, pod("x-1", owner="not-an-aiservice", **CRASHLOOP))
    assert client.of("patch") == [] and find(stored(client, "translation")["status"]["conditions"], "GPUReady") is None
