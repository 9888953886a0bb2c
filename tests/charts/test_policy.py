"""Policies over the rendered objects: restricted pod security on every container (the charts'
and the InferenceServices the operator makes from them), GPU values reaching an nvidia.com/gpu
limit, NetworkPolicies that select real pods and let only the gateway reach model services,
secrets only by reference, and the clear failures the charts promise."""

from __future__ import annotations

import re

import pytest
import yaml
from chartkit import (CHARTS, UMBRELLA, HelmError, ci_values, container_env, name, of_kind, operator_render,
                      pod_specs)

UMBRELLA_VALUES = ci_values(UMBRELLA)
GPU_RESOURCES = ("nvidia.com/gpu", "nvidia.com/gpu.shared")


@pytest.fixture(scope="module", params=UMBRELLA_VALUES, ids=[p.stem for p in UMBRELLA_VALUES])
def release(request, helm):
    """Chart objects plus what the operator makes of the AIServices (InferenceServices, ConfigMaps)."""
    objects = helm.template(UMBRELLA, [request.param])
    made, notes = operator_render(of_kind(objects, "AIService", "GPUPool"))
    assert not notes, notes
    return request.param.stem, objects, made


def predictor_pods(made: list[dict]) -> list[tuple[str, dict, dict]]:
    """Pods KServe makes for an InferenceService: its labels plus KServe's own, the predictor spec."""
    out = []
    for isvc in of_kind(made, "InferenceService"):
        labels = {**isvc["metadata"]["labels"], "serving.kserve.io/inferenceservice": name(isvc),
                  "component": "predictor"}
        spec = {k: v for k, v in isvc["spec"]["predictor"].items() if k in ("containers", "volumes", "securityContext")}
        out.append((f"predictor/{name(isvc)}", labels, spec))
    return out


def all_pods(objects, made):
    return pod_specs(objects) + predictor_pods(made)


def restricted_problems(flavour: str, pods: list[tuple[str, dict, dict]]) -> list[str]:
    """What Pod Security "restricted" (and the charts' own rules) would refuse in these pods."""
    problems = []
    for what, _, spec in pods:
        pod_sc = spec.get("securityContext", {})
        for c in spec.get("initContainers", []) + spec["containers"]:
            sc = c.get("securityContext", {})
            where = f"{flavour} {what}/{c['name']}"
            if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
                problems.append(f"{where}: runAsNonRoot")
            if (sc.get("runAsUser", pod_sc.get("runAsUser")) or 1) == 0:
                problems.append(f"{where}: runs as uid 0")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation")
            if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
                problems.append(f"{where}: capabilities must drop ALL and add none")
            if sc.get("privileged") or any(p.get("hostPort") for p in c.get("ports", [])):
                problems.append(f"{where}: privileged or hostPort")
            seccomp = sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}
            if seccomp.get("type") != "RuntimeDefault":
                problems.append(f"{where}: seccompProfile RuntimeDefault")
            res = c.get("resources", {})
            if not res.get("requests", {}).get("cpu") or not res.get("limits", {}).get("memory"):
                problems.append(f"{where}: cpu request and memory limit")
            image = c["image"]
            tag = image.rsplit(":", 1)[-1] if ":" in image.split("/")[-1] else ""
            if not tag or tag == "latest":
                problems.append(f"{where}: image {image} needs a version tag")
        for vol in spec.get("volumes", []):
            kinds = set(vol) - {"name"}
            if not kinds <= {"emptyDir", "configMap", "secret", "persistentVolumeClaim", "projected", "downwardAPI",
                             "ephemeral", "csi"}:
                problems.append(f"{flavour} {what}: volume {vol['name']} of a type Pod Security restricted refuses")
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            problems.append(f"{flavour} {what}: host namespaces")
    return problems


def test_restricted_security_on_every_container(release):
    flavour, objects, made = release
    problems = restricted_problems(flavour, all_pods(objects, made))
    assert not problems, "\n".join(problems)


def test_gpu_values_become_gpu_limits(release):
    """Every AIService with gpu.memoryGB gets one time-sliced GPU share and its memory budget."""
    flavour, objects, made = release
    isvcs = {name(i): i for i in of_kind(made, "InferenceService")}
    gpu_services = [s for s in of_kind(objects, "AIService") if s["spec"].get("gpu")]
    if flavour == "gpu-values":
        assert {name(s) for s in gpu_services} == {"vlm", "audio"}
    for service in of_kind(objects, "AIService"):
        container = isvcs[name(service)]["spec"]["predictor"]["containers"][0]
        limits = container["resources"]["limits"]
        asked = [r for r in GPU_RESOURCES if r in limits]
        if service["spec"].get("gpu"):
            assert asked and limits[asked[0]] == "1", f"{name(service)}: {limits}"
            env = container_env(container)
            budget = [v["value"] for k, v in env.items() if k.endswith("_MAX_MEMORY_GB")]
            assert budget == [f"{service['spec']['gpu']['memoryGB']:g}"]
        else:
            assert not asked, f"{name(service)} is CPU-only but asks for {asked}"


def _matches(selector: dict, labels: dict) -> bool:
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        present, value = expr["key"] in labels, labels.get(expr["key"])
        op = expr["operator"]
        if (op == "Exists" and not present) or (op == "DoesNotExist" and present) \
                or (op == "In" and value not in expr["values"]) or (op == "NotIn" and value in expr["values"]):
            return False
    return True


def test_every_network_policy_selects_existing_pods(release):
    flavour, objects, made = release
    pods = all_pods(objects, made)
    workloads = [p for p in pods if not p[0].startswith("Pod/")]
    policies = of_kind(objects, "NetworkPolicy")
    assert policies
    for policy in policies:
        selected = [what for what, labels, _ in workloads if _matches(policy["spec"]["podSelector"], labels)]
        assert selected, f"{flavour} NetworkPolicy/{name(policy)} selects no pod"
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    sources = [what for what, labels, _ in pods if _matches(peer["podSelector"], labels)]
                    assert sources, f"{flavour} NetworkPolicy/{name(policy)}: a from-podSelector matches no pod"
    selected_everywhere = {what for what, labels, _ in workloads
                           if any(_matches(p["spec"]["podSelector"], labels) for p in policies)}
    unprotected = {what for what, _, _ in workloads} - selected_everywhere
    assert not unprotected, f"{flavour}: pods without a NetworkPolicy: {unprotected}"


def test_only_the_gateway_reaches_model_services(release):
    flavour, objects, made = release
    pods = all_pods(objects, made)
    for isvc in of_kind(made, "InferenceService"):
        policies = [p for p in of_kind(objects, "NetworkPolicy")
                    if p["spec"]["podSelector"].get("matchLabels", {}).get("serving.kserve.io/inferenceservice")
                    == name(isvc)]
        assert len(policies) == 1, f"{flavour}: {name(isvc)} has {len(policies)} NetworkPolicies"
        for rule in policies[0]["spec"]["ingress"]:
            for peer in rule["from"]:
                if "namespaceSelector" in peer:  # Knative's activator in the cloud flavour only
                    assert flavour == "cloud-values"
                    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "knative-serving"}
                    continue
                sources = {what for what, labels, _ in pods if _matches(peer["podSelector"], labels)}
                workloads = {s for s in sources if not s.startswith("Pod/")}
                assert workloads == {"Deployment/ai-platform-gateway"}, f"{name(isvc)} reachable from {sources}"
                assert all(s.endswith("-test-connection") for s in sources - workloads)


def test_gateway_and_frontend_only_from_ingress_controller(release):
    flavour, objects, made = release
    pods = all_pods(objects, made)
    for target in ("ai-platform-gateway", "ai-platform-web-frontend"):
        (policy,) = [p for p in of_kind(objects, "NetworkPolicy") if name(p) == target]
        peers = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
        namespaces = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                      for peer in peers if "namespaceSelector" in peer}
        assert namespaces & {"ingress-nginx", "kube-system"}, namespaces
        for peer in peers:
            if "podSelector" in peer:
                sources = {what for what, labels, _ in pods if _matches(peer["podSelector"], labels)}
                assert sources <= {"Deployment/ai-platform-web-frontend"} | {s for s in sources if s.startswith("Pod/")}


def test_operator_reaches_only_the_api_server(release):
    _, objects, _ = release
    (policy,) = [p for p in of_kind(objects, "NetworkPolicy") if name(p) == "ai-platform-platform-operator"]
    spec = policy["spec"]
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"} and spec["ingress"] == []
    ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
    assert ports == {53, 443, 6443} or ports == {53, 443}


def test_secrets_only_by_reference(release, helm):
    flavour, objects, _ = release
    assert not of_kind(objects, "Secret"), "charts never carry Secret values"
    for what, _, spec in pod_specs(objects):
        for c in spec["containers"]:
            for var, entry in container_env(c).items():
                if re.search(r"(API_KEYS|DATABASE_URL|PASSWORD|TOKEN|SECRET)", var):
                    assert "valueFrom" in entry and "secretKeyRef" in entry["valueFrom"], f"{what}: {var} is a literal"
    gateway = [s for w, _, s in pod_specs(objects) if w == "Deployment/ai-platform-gateway"][0]
    env = container_env(gateway["containers"][0])
    if flavour == "cloud-values":
        assert env["GATEWAY_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "ai-platform-gateway-db",
                                                                             "key": "database-url"}


SECRETISH = re.compile(r"(password|passwd|token|secret(?!Name$)|apikey|api_key|credential|privatekey)", re.I)
REFERENCE_KEYS = {"existingSecret", "secretName", "key", "existingClaim", "apiKeys"}


def _secret_values(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if isinstance(value, (dict, list)):
                yield from _secret_values(value, here)
            elif key not in REFERENCE_KEYS and SECRETISH.search(key) and value not in ("", None, False, True):
                yield f"{here}={value!r}"
            elif isinstance(value, str) and re.search(r"://[^/\s:@]+:[^/\s@]+@", value):
                yield f"{here}: credentials in a URL"
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _secret_values(item, f"{path}[{i}]")


def test_no_secret_values_in_any_values_file():
    files = sorted(CHARTS.glob("*/values.yaml")) + sorted(CHARTS.glob("*/ci/*.yaml")) \
        + sorted(CHARTS.glob("*/presets/*.yaml"))
    assert len(files) >= 20
    found = [f"{f.relative_to(CHARTS)}: {hit}" for f in files for hit in _secret_values(yaml.safe_load(f.read_text()))]
    assert not found, found


@pytest.mark.parametrize("sets", [{"gateway.replicaCount": "3"}, {"gateway.autoscaling.enabled": "true"}])
def test_sqlite_with_several_replicas_is_refused(helm, sets):
    with pytest.raises(HelmError, match=r"needs PostgreSQL: SQLite keeps its file on one volume and serves one replica"):
        helm.template(UMBRELLA, sets=sets)


def test_postgresql_without_a_secret_is_refused(helm):
    with pytest.raises(HelmError, match="database.postgresql.existingSecret"):
        helm.template("gateway", sets={"database.type": "postgresql", "replicaCount": "2"}, release="gateway")


@pytest.mark.parametrize(("sets", "message"), [
    ({"gateway.replicaCount": "two"}, r"/replicaCount.*got string, want integer"),
    ({"vlm.aiService.gpu.memoryGB": "lots"}, r"/aiService/gpu/memoryGB.*got string, want number"),
    ({"vlm.aiService.deploymentMode": "Serverless"}, r"/aiService/deploymentMode"),
    ({"gateway.image.tag": "latest"}, r"/image/tag"),
    ({"ingress.enabled": "maybe"}, r"/ingress/enabled.*want boolean"),
    ({"gateway.database.type": "mysql"}, r"/database/type"),
    ({"gateway.config.GATEWAY_DATABASE_URL": "postgresql://u:p@db/gw"}, r"invalid propertyName 'GATEWAY_DATABASE_URL'"),
    ({"vlm.aiService.image": "my/image:1"}, r"additional properties 'image' not allowed"),
])
def test_a_wrong_value_fails_schema_validation(helm, sets, message):
    with pytest.raises(HelmError, match=message):
        helm.template(UMBRELLA, sets=sets)


def test_ingress_routes_api_to_gateway_and_root_to_frontend(release):
    flavour, objects, _ = release
    (ingress,) = of_kind(objects, "Ingress")
    services = {name(s): {p["port"] for p in s["spec"]["ports"]} for s in of_kind(objects, "Service")}
    paths = {p["path"]: p["backend"]["service"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    for path in ("/api", "/v1", "/docs", "/openapi.json"):
        assert paths[path]["name"] == "ai-platform-gateway"
    assert paths["/"]["name"] == "ai-platform-web-frontend"
    for backend in paths.values():
        assert backend["port"]["number"] in services[backend["name"]]
    if flavour == "cloud-values":
        assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
        assert ingress["spec"]["tls"] == [{"secretName": "ai-platform-tls", "hosts": ["ai.example.com"]}]


def test_ingress_tls_from_an_existing_secret(helm):
    objects = helm.template(UMBRELLA, sets={"ingress.tls.enabled": "true", "ingress.tls.secretName": "my-cert",
                                            "ingress.className": "traefik"})
    (ingress,) = of_kind(objects, "Ingress")
    assert ingress["spec"]["tls"] == [{"secretName": "my-cert"}]
    assert ingress["spec"]["ingressClassName"] == "traefik"


def test_gateway_mounts_the_route_table_the_operator_writes(release):
    _, objects, made = release
    operator = [s for w, _, s in pod_specs(objects) if w == "Deployment/ai-platform-platform-operator"][0]
    env = container_env(operator["containers"][0])
    gateway = [s for w, _, s in pod_specs(objects) if w == "Deployment/ai-platform-gateway"][0]
    volume = next(v for v in gateway["volumes"] if v["name"] == "routes")
    assert volume["configMap"]["name"] == env["OPERATOR_ROUTES_CONFIGMAP"]["value"]
    (routes,) = [c for c in of_kind(made, "ConfigMap") if name(c) == volume["configMap"]["name"]]
    key = env["OPERATOR_ROUTES_KEY"]["value"]
    assert key in routes["data"]
    mount = next(m for m in gateway["containers"][0]["volumeMounts"] if m["name"] == "routes")
    assert container_env(gateway["containers"][0])["GATEWAY_ROUTES_FILE"]["value"] == f"{mount['mountPath']}/{key}"


def test_frontend_proxies_to_the_gateway_service(release):
    _, objects, _ = release
    (frontend,) = [s for w, _, s in pod_specs(objects) if w == "Deployment/ai-platform-web-frontend"]
    (gateway,) = [s for s in of_kind(objects, "Service") if name(s) == "ai-platform-gateway"]
    url = container_env(frontend["containers"][0])["WEB_GATEWAY_URL"]["value"]
    assert url == f"http://{name(gateway)}:{gateway['spec']['ports'][0]['port']}"


def test_operator_runs_standalone_with_one_replica(release):
    _, objects, _ = release
    (deploy,) = [d for d in of_kind(objects, "Deployment") if name(d) == "ai-platform-platform-operator"]
    assert deploy["spec"]["replicas"] == 1 and deploy["spec"]["strategy"]["type"] == "Recreate"
    assert "--standalone" in deploy["spec"]["template"]["spec"]["containers"][0]["args"]


def test_autoscaling_objects_target_what_exists(release):
    flavour, objects, made = release
    deployments = {name(d) for d in of_kind(objects, "Deployment")}
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
    for pdb in of_kind(objects, "PodDisruptionBudget"):
        assert any(all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items())
                   for _, labels, _ in pod_specs(objects))
    hpas = of_kind(objects, "HorizontalPodAutoscaler")
    if flavour == "cloud-values":
        assert [name(h) for h in hpas] == ["ai-platform-gateway"]
        for isvc in of_kind(made, "InferenceService"):
            predictor = isvc["spec"]["predictor"]
            assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"
            assert predictor["minReplicas"] == 0 and predictor["scaleMetric"] == "concurrency"
    else:
        assert not hpas
    if flavour == "cpu-values":
        audio = next(i for i in of_kind(made, "InferenceService") if name(i) == "audio")["spec"]["predictor"]
        assert (audio["minReplicas"], audio["maxReplicas"], audio["scaleMetric"], audio["scaleTarget"]) == (1, 2, "cpu", 80)
        assert next(i for i in of_kind(made, "InferenceService") if name(i) == "audio")["metadata"]["annotations"][
            "serving.kserve.io/autoscalerClass"] == "hpa"


def test_keda_scaled_object_scales_the_predictor_on_queued_jobs(helm):
    objects = helm.template(UMBRELLA, [CHARTS / UMBRELLA / "ci" / "cpu-values.yaml"],
                            sets={"audio.keda.enabled": "true", "audio.aiService.scaling.maxReplicas": "3"})
    (scaled,) = of_kind(objects, "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "audio-predictor"}
    assert scaled["spec"]["maxReplicaCount"] == 3
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    # every gateway replica reports the cluster-wide count (from the database): max, never sum
    assert trigger["metadata"]["query"].startswith('max(gateway_jobs_queued{route="audio"})')
    # KServe is told to leave the replica count to KEDA, so two autoscalers never fight
    (audio,) = [o for o in of_kind(objects, "AIService") if name(o) == "audio"]
    assert audio["spec"]["scaling"]["autoscaler"] == "external"


def test_keda_needs_standard_mode_and_keda_installed(helm):
    cloud = CHARTS / UMBRELLA / "ci" / "cloud-values.yaml"
    with pytest.raises(HelmError, match="keda.enabled needs deploymentMode Standard"):
        helm.template(UMBRELLA, [cloud], sets={"audio.keda.enabled": "true"})
    with pytest.raises(HelmError, match="KEDA is not installed"):
        helm.template(UMBRELLA, sets={"audio.keda.enabled": "true"}, apis=())


def test_monitors_only_where_the_prometheus_operator_is(helm):
    with_crds = helm.template(UMBRELLA)
    without = helm.template(UMBRELLA, apis=())
    assert {name(o) for o in of_kind(with_crds, "ServiceMonitor")} == {"ai-platform-gateway"}
    assert {name(o) for o in of_kind(with_crds, "PodMonitor")} == {"vlm", "audio"}
    assert not of_kind(without, "ServiceMonitor", "PodMonitor")


def test_replicas_share_rate_limits_through_the_charts_redis(helm):
    """cloud: several gateway replicas count one rate limit in the release's Redis, which only
    the gateway's pods reach and which the gateway's own selectors never match."""
    objs = helm.template("gateway", values=[CHARTS / "gateway/ci/cloud-values.yaml"])
    deploys = {name(o): o for o in of_kind(objs, "Deployment")}
    redis = next(o for n, o in deploys.items() if n.endswith("-redis"))
    gateway = next(o for n, o in deploys.items() if not n.endswith("-redis"))
    env = container_env(gateway["spec"]["template"]["spec"]["containers"][0])
    svc = next(s for s in of_kind(objs, "Service") if name(s).endswith("-redis"))
    assert env["GATEWAY_RATE_LIMIT_STORAGE"]["value"] == f"redis://{name(svc)}:6379/0"
    gw_selector = gateway["spec"]["selector"]["matchLabels"]
    redis_labels = redis["spec"]["template"]["metadata"]["labels"]
    assert not gw_selector.items() <= redis_labels.items(), "the gateway's selector matches the Redis pods"
    policy = next(p for p in of_kind(objs, "NetworkPolicy") if name(p).endswith("-redis"))
    assert policy["spec"]["ingress"][0]["from"] == [{"podSelector": {"matchLabels": gw_selector}}]
    # an external Redis by Secret reference only; a single replica in memory needs none
    ext = helm.template("gateway", sets={"redis.existingSecret": "my-redis"})
    ext_env = container_env(of_kind(ext, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0])
    assert ext_env["GATEWAY_RATE_LIMIT_STORAGE"]["valueFrom"]["secretKeyRef"] == {"name": "my-redis", "key": "redis-url"}
    assert not any(name(o).endswith("-redis") for o in ext)
    plain = helm.template("gateway")
    assert "GATEWAY_RATE_LIMIT_STORAGE" not in container_env(of_kind(plain, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0])
