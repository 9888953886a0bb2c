"""A refused start-up GPU check reaches the AIService: the operator renders the check as the
predictor's startup probe, and turns a predictor pod's termination by it into GPUReady=False.

No kubelet runs here, so the test plays the kubelet's part: it creates the predictor pod with the
container the operator rendered (the API server validates the probe) and writes the container
status a refusing service leaves (exit 78, its log line as the termination message)."""

from __future__ import annotations

import json

from clusterkit import IMAGE, ISVC_API, aiservice, wait_condition, wait_for

REFUSAL = ("GPU check failed: AUDIO_DEVICE=cuda cannot be served: CTranslate2 4.8.5 cannot use the NVIDIA "
           "GeForce RTX 5060 Ti (sm_120, 16 GB) (get_cuda_device_count() is 0)")


def test_a_refused_gpu_check_becomes_the_gpu_ready_condition(platform, operator, gpupool, namespace):
    ns = namespace
    platform.create(aiservice("speech", ns, task="transcription", gpu_gb=2))
    wait_condition(platform, "speech", ns, "Admitted", "True")
    isvc = wait_for(lambda: platform.get(ISVC_API, "InferenceService", "speech", ns), 30, what="InferenceService")
    (rendered,) = isvc["spec"]["predictor"]["containers"]
    assert rendered["startupProbe"]["exec"]["command"][:4] == ["python", "-m", "kit.gpu", "check"]
    container = {"name": "kserve-container", "image": IMAGE, "startupProbe": rendered["startupProbe"],
                 "terminationMessagePolicy": rendered["terminationMessagePolicy"]}
    pod = platform.create({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": "speech-predictor-0", "namespace": ns,
                                        "labels": {"serving.kserve.io/inferenceservice": "speech"}},
                           "spec": {"containers": [container]}})
    assert pod["spec"]["containers"][0]["startupProbe"]["exec"] == rendered["startupProbe"]["exec"]
    log_line = json.dumps({"level": "CRITICAL", "logger": "kit.gpu", "message": REFUSAL})
    platform.core.patch_namespaced_pod_status("speech-predictor-0", ns, {"status": {"containerStatuses": [{
        "name": "kserve-container", "image": IMAGE, "imageID": "", "ready": False, "started": False,
        "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 78, "reason": "Error", "message": log_line}}}]}})
    cond = wait_condition(platform, "speech", ns, "GPUReady", "False")
    assert cond["reason"] == "GPUCheckFailed" and cond["message"] == REFUSAL
    events = wait_for(lambda: [e for e in platform.core.list_namespaced_event(ns).items
                               if e.reason == "GPUCheckFailed" and e.involved_object.name == "speech"], 30,
                      what="the GPUCheckFailed event")
    assert events[0].type == "Warning" and REFUSAL in events[0].message
