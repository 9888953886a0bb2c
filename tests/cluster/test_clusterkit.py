"""The operator-log check that fails a test on an RBAC refusal: it must count a missing verb and
ignore the API server refusing writes into a namespace that is being deleted."""
from clusterkit import refusals

RBAC = ("[2026-11-30 11:45:25,121] kopf.objects [ERROR   ] [ns1/svc] Request failed: GET "
        "https://127.0.0.1:1/apis/serving.kserve.io/v1beta1/namespaces/ns1/inferenceservices "
        "-> APIForbiddenError('inferenceservices.serving.kserve.io is forbidden: User "
        "\"system:serviceaccount:x:y\" cannot list resource', {'code': 403})")
LIFECYCLE = ("[2026-11-30 11:45:25,121] kopf._core.engines.p [ERROR   ] Request attempt #1/9 failed; "
             "will retry: POST https://127.0.0.1:44607/api/v1/namespaces/t-5bd709e5/events -> "
             "APIForbiddenError('events \"kopf-event-\" is forbidden: unable to create new content in "
             "namespace t-5bd709e5 because it is being terminated', {'kind': 'Status', 'details': "
             "{'causes': [{'reason': 'NamespaceTerminating'}]}, 'code': 403}, status=403)")


def test_a_missing_verb_is_a_refusal():
    assert refusals("started\n" + RBAC + "\nstopped") == [RBAC]


def test_a_write_into_a_terminating_namespace_is_not():
    assert refusals("\n".join(["started", LIFECYCLE, RBAC])) == [RBAC]


def test_a_namespace_the_operator_saw_going_is_skipped_whole():
    seen = "[t-1/svc] namespace t-1 is being terminated; nothing to make"
    line = "PATCH https://h/apis/x/namespaces/t-1/aiservices/svc -> 403 Forbidden"
    assert refusals("\n".join([seen, line])) == []
    assert refusals(line) == [line]
