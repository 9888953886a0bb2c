"""The umbrella chart against a live API server: `helm install` (no --wait) of every
charts/ai-platform/ci/*-values.yaml, the operator running as the chart's ServiceAccount with the
chart's RBAC and environment, `helm upgrade` with changed values and `helm uninstall`, each
leaving no orphans. The release's namespace warns on Pod Security "restricted", so the API
server checks every pod template the chart installs.

Nothing runs pods here (no kubelet): the Deployments are stored, not started, so the operator
runs in-process with the chart Deployment's environment and a token of the chart's
ServiceAccount. InferenceServices use the stand-in CRD of the `platform` fixture. helm is the
pinned binary of tests/tools/helmbin.py (through the venv of tests/requirements.txt)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from clusterkit import (API, ISVC_API, ROOT, Cluster, OperatorControl, condition, operator_kubeconfig, wait_for)

sys.path.insert(0, str(ROOT / "tests" / "charts"))
from chartkit import CHARTS, UMBRELLA, Helm, ci_values  # noqa: E402

# namespaced kinds a fresh namespace has on its own, and that helm never owns
BASELINE = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
SKIP_KINDS = {"Event", "Lease", "EndpointSlice", "Endpoints"}


@pytest.fixture(scope="module")
def helm(tmp_path_factory, kubeconfig) -> Helm:
    venv = subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), "tests"], cwd=ROOT, check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    binary = subprocess.run([f"{venv}/bin/python", str(ROOT / "tests" / "tools" / "helmbin.py"), "helm"],
                            check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    tree = tmp_path_factory.mktemp("charts") / "charts"
    shutil.copytree(CHARTS, tree, ignore=shutil.ignore_patterns("charts", "Chart.lock"))
    h = Helm(binary, tree)
    h.run("dependency", "build", str(tree / UMBRELLA))
    return h


def _install(helm: Helm, *args: str) -> tuple[str, str]:
    """`helm install`, returning stdout and stderr (where helm prints the API server's warnings)."""
    home = helm.tree.parent
    proc = subprocess.run([helm.binary, "install", *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "HELM_CACHE_HOME": str(home / ".helm-cache"),
                               "HELM_CONFIG_HOME": str(home / ".helm-config"),
                               "HELM_DATA_HOME": str(home / ".helm-data")})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr


def _objects(manifest: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(manifest) if d]


def _key(obj: dict, namespace: str) -> tuple[str, str, str, str | None]:
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace", namespace)


def _namespaced(cluster: Cluster, key) -> str | None:
    """The namespace to look the object up in (None for cluster-scoped kinds)."""
    return key[3] if cluster.resource(key[0], key[1]).namespaced else None


def _exists(cluster: Cluster, key) -> bool:
    return cluster.get(key[0], key[1], key[2], _namespaced(cluster, key)) is not None


def _leftovers(cluster: Cluster, namespace: str, release: str) -> list[str]:
    """Everything still in the namespace beyond its defaults, and cluster-scoped objects of the
    release (by its app.kubernetes.io/instance label)."""
    found = []
    for res in cluster.dyn.resources.search():
        if "list" not in (res.verbs or []) or "/" in res.name or res.kind in SKIP_KINDS or res.kind.endswith("List"):
            continue
        try:
            if res.namespaced:
                items = res.get(namespace=namespace).to_dict()["items"]
            else:
                items = res.get(label_selector=f"app.kubernetes.io/instance={release}").to_dict()["items"]
        except Exception:  # noqa: BLE001 - e.g. kinds that refuse list
            continue
        for item in items:
            name = item["metadata"]["name"]
            if (res.kind, name) not in BASELINE:
                found.append(f"{res.kind}/{name}")
    return sorted(set(found))


def _env_of_operator(objects: list[dict], namespace: str) -> dict[str, str]:
    deployment = next(o for o in objects if o["kind"] == "Deployment" and
                      o["spec"]["template"]["spec"]["containers"][0].get("command") == ["kopf"])
    env = {}
    for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        elif item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            env[item["name"]] = namespace
    return env


def _gateway_routes_volume(objects: list[dict]) -> str:
    for obj in objects:
        if obj["kind"] == "Deployment":
            for volume in obj["spec"]["template"]["spec"].get("volumes", []):
                if volume["name"] == "routes":
                    return volume["configMap"]["name"]
    raise AssertionError("no gateway Deployment with a routes volume")


@pytest.mark.parametrize("values", ci_values(UMBRELLA), ids=lambda p: p.stem)
def test_install_upgrade_uninstall(platform, helm, kubeconfig, tmp_path, values):
    release = namespace = f"aip-{values.stem.removesuffix('-values')}"
    plugin_ns = f"{namespace}-nvdp"
    k = ["--kubeconfig", str(kubeconfig), "--namespace", namespace]
    sets = ["--set", f"platform-operator.devicePlugin.namespace={plugin_ns}"]
    platform.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": namespace, "labels": {"pod-security.kubernetes.io/warn": "restricted"}}})

    out, warnings = _install(helm, release, helm.chart(UMBRELLA), "-f", str(values), *sets, *k)
    assert "STATUS: deployed" in out
    # the namespace warns on Pod Security "restricted": the API server checked every pod template
    assert "PodSecurity" not in warnings, warnings
    objects = _objects(helm.run("get", "manifest", release, *k))
    keys = {_key(o, namespace) for o in objects}
    missing = [key for key in keys if not _exists(platform, key)]
    assert not missing, missing
    services = [o for o in objects if o["kind"] == "AIService"]
    assert services, "the chart installs model services"

    # the operator as the chart's ServiceAccount, with the chart's environment
    account = next(o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount" and
                   "platform-operator" in o["metadata"]["name"])
    identity = operator_kubeconfig(platform, namespace, account, tmp_path / "operator.kubeconfig")
    env = _env_of_operator(objects, namespace)
    routes_cm = _gateway_routes_volume(objects)
    assert env["OPERATOR_ROUTES_CONFIGMAP"] == routes_cm  # the one the gateway mounts, same namespace
    operator = OperatorControl(identity, env=env).start()
    try:
        for svc in services:
            name = svc["metadata"]["name"]
            wait_for(lambda: condition(platform.get(API, "AIService", name, namespace), "RouteRegistered"),
                     60, what=f"{name} routed")
            assert condition(platform.get(API, "AIService", name, namespace), "Admitted")["status"] == "True"
            assert platform.get(ISVC_API, "InferenceService", name, namespace) is not None

        def table():
            data = platform.configmap_data(routes_cm, namespace) or {}
            return {r["name"] for r in yaml.safe_load(data.get(env["OPERATOR_ROUTES_KEY"], "") or "{}").get("routes", [])}
        assert wait_for(lambda: table() == {s["metadata"]["name"] for s in services} and table(), 30,
                        what="the route table the gateway mounts")

        # upgrade with changed values: one model service switched off
        gone = services[0]["metadata"]["name"]
        out = helm.run("upgrade", release, helm.chart(UMBRELLA), "-f", str(values), *sets,
                       "--set", f"{gone}.enabled=false", *k)
        assert "STATUS: deployed" in out
        upgraded = _objects(helm.run("get", "manifest", release, *k))
        new_keys = {_key(o, namespace) for o in upgraded}
        assert new_keys < keys
        for key in keys - new_keys:
            wait_for(lambda key=key: not _exists(platform, key), 60, what=f"{key} removed by the upgrade")
        assert all(_exists(platform, key) for key in new_keys)
        wait_for(lambda: platform.gone(ISVC_API, "InferenceService", gone, namespace), 30,
                 what=f"{gone}'s InferenceService gone")
        wait_for(lambda: gone not in table(), 30, what=f"{gone}'s route gone")
    except BaseException:
        with contextlib.suppress(BaseException):
            operator.stop()
        raise
    # the operator goes first, the worst order an uninstall can take: nothing may wait for it
    operator.stop()
    helm.run("uninstall", release, *k)
    kept = {_key(o, namespace) for o in upgraded
            if (o["metadata"].get("annotations") or {}).get("helm.sh/resource-policy") == "keep"}
    for key in kept:  # kept on purpose (the gateway's uploads and SQLite database); the user removes it
        assert _exists(platform, key), key
        platform.delete(key[0], key[1], key[2], _namespaced(platform, key))
    for key in new_keys:
        wait_for(lambda key=key: not _exists(platform, key), 60, what=f"{key} removed by the uninstall")
    wait_for(lambda: not platform.list(ISVC_API, "InferenceService", namespace), 60,
             what="InferenceServices garbage-collected")
    try:
        wait_for(lambda: not _leftovers(platform, namespace, release), 30, what="nothing left behind")
    except AssertionError:
        pytest.fail(f"left behind after helm uninstall: {_leftovers(platform, namespace, release)}")
    platform.delete("v1", "Namespace", namespace)
