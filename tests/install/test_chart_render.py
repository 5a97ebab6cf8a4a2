"""What `helm template` makes of the chart, without a cluster: the CRDs equal crds/, the operator's RBAC
is the operator author's contract in both watch modes, the Pod is locked down, the Service, NetworkPolicy,
ServiceMonitor, user roles and TrainingTemplates are what the README promises, and values.schema.json
refuses bad values by name.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
import yaml

from tests.install import charts

CRDS = charts.REPO / "crds"

# The operator author's contract: (apiGroup, resource) -> verbs.
NAMESPACED_CONTRACT = {
    ("textclf.io", "trainingruns"): {"list", "watch"},
    ("textclf.io", "textclassifiermodels"): {"list", "watch"},
    ("textclf.io", "modelevaluations"): {"list", "watch"},
    ("textclf.io", "trainingruns/status"): {"patch"},
    ("textclf.io", "textclassifiermodels/status"): {"patch"},
    ("textclf.io", "modelevaluations/status"): {"patch"},
    # blockOwnerDeletion on what it owns, where OwnerReferencesPermissionEnforcement is on
    ("textclf.io", "trainingruns/finalizers"): {"update"},
    ("textclf.io", "textclassifiermodels/finalizers"): {"update"},
    ("textclf.io", "modelevaluations/finalizers"): {"update"},
    ("batch", "jobs"): {"get", "list", "watch", "create", "patch", "delete"},
    ("", "pods"): {"list", "watch"},
    ("", "events"): {"create"},
    ("apps", "deployments"): {"list", "watch", "create", "patch", "delete"},
    ("", "services"): {"list", "watch", "create", "patch", "delete"},
}
LEASE_CONTRACT = {
    # leader election: every replica reads the release's Lease, the leader renews it, the first
    # replica ever makes it
    ("coordination.k8s.io", "leases", "textclf-operator"): {"get", "update"},
    ("coordination.k8s.io", "leases", "*"): {"create"},
}
OWN_NAMESPACE_CONTRACT = {
    # the progress endpoint's certificate: read it, and make it on first start
    ("", "secrets", "textclf-operator-progress-tls"): {"get"},
    ("", "secrets", "*"): {"create"},
    **LEASE_CONTRACT,
}
"""In the release namespace only: (apiGroup, resource, resourceName or *) -> verbs."""
CLUSTER_CONTRACT = {
    ("textclf.io", "trainingtemplates"): {"list", "watch"},
    ("textclf.io", "trainingtemplates/status"): {"patch"},
    ("authentication.k8s.io", "tokenreviews"): {"create"},
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"},
}


def _by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def _one(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = _by_kind(objs, kind)
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def _grants(rules: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    grants: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        assert "resourceNames" not in rule
        assert "nonResourceURLs" not in rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.setdefault((group, resource), set()).update(rule["verbs"])
    return grants


def _own_grants(rules: list[dict[str, Any]]) -> dict[tuple[str, str, str], set[str]]:
    """The rules of the operator's Role in its own namespace, by resource name."""
    grants: dict[tuple[str, str, str], set[str]] = {}
    for rule in rules:
        assert rule["namespace"] == charts.NAMESPACE
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for name in rule.get("resourceNames") or ["*"]:
                    grants.setdefault((group, resource, name), set()).update(rule["verbs"])
    return grants


def _split(rules: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the rules of the operator's own namespace, the others)."""
    own = [r for r in rules if r.get("namespace") == charts.NAMESPACE]
    return own, [r for r in rules if r.get("namespace") != charts.NAMESPACE]


def _container(objs: list[dict[str, Any]]) -> dict[str, Any]:
    pod = _one(objs, "Deployment")["spec"]["template"]["spec"]
    assert len(pod["containers"]) == 1
    return dict(pod["containers"][0])


# --- CRDs -----------------------------------------------------------------------------------------


def test_chart_copy_of_crds_equals_crds_folder() -> None:
    """files/crds/ must be byte-identical to crds/: re-copy after `make crds`."""
    ours = {p.name: p.read_bytes() for p in (charts.CHART / "files" / "crds").glob("*.yaml")}
    repo = {p.name: p.read_bytes() for p in CRDS.glob("*.yaml")}
    assert sorted(ours) == sorted(repo)
    drifted = [name for name in repo if ours[name] != repo[name]]
    assert not drifted, f"charts/textclf-operator/files/crds/ differs from crds/: {drifted}"


def test_rendered_crds_carry_crds_folder_spec_verbatim() -> None:
    rendered = {
        c["metadata"]["name"]: c for c in _by_kind(charts.render(), "CustomResourceDefinition")
    }
    for path in CRDS.glob("*.yaml"):
        source = yaml.safe_load(path.read_text())
        crd = rendered.pop(source["metadata"]["name"])
        # json.dumps tells 1 from 1.0: a lossy round trip would show here.
        assert json.dumps(crd["spec"], sort_keys=True) == json.dumps(source["spec"], sort_keys=True)
        assert source["metadata"]["labels"].items() <= crd["metadata"]["labels"].items()
        assert crd["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    assert not rendered


def test_crds_policy_values() -> None:
    assert not _by_kind(charts.render({"crds": {"install": False}}), "CustomResourceDefinition")
    unkept = _by_kind(charts.render({"crds": {"keep": False}}), "CustomResourceDefinition")
    assert len(unkept) == 4
    assert all("annotations" not in c["metadata"] for c in unkept)


# --- RBAC -----------------------------------------------------------------------------------------


def test_cluster_wide_mode_rbac_is_the_contract() -> None:
    objs = charts.render()
    rules, account = charts.operator_rules()
    assert account == "textclf-operator"
    own, rest = _split(rules)
    assert _grants(rest) == {**NAMESPACED_CONTRACT, **CLUSTER_CONTRACT}
    assert _own_grants(own) == OWN_NAMESPACE_CONTRACT
    assert [r["metadata"]["name"] for r in _by_kind(objs, "Role")] == [
        "textclf-operator-progress-tls",
        "textclf-operator-leader-election",
    ]
    binding = _one(objs, "ClusterRoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": charts.NAMESPACE}
    ]
    args = _container(objs)["args"]
    assert "--all-namespaces" in args
    assert not [a for a in args if a.startswith("--namespace")]


def test_namespaced_mode_rbac_is_the_contract_per_namespace() -> None:
    values = {"watchNamespaces": ["team-a", "team-b"]}
    objs = charts.render(values)
    rules, _ = charts.operator_rules(values)
    cluster = [r for r in rules if "namespace" not in r]
    assert _grants(cluster) == CLUSTER_CONTRACT
    assert _own_grants(_split(rules)[0]) == OWN_NAMESPACE_CONTRACT
    for ns in ("team-a", "team-b"):
        assert _grants([r for r in rules if r.get("namespace") == ns]) == NAMESPACED_CONTRACT
    assert {r["metadata"]["namespace"] for r in _by_kind(objs, "RoleBinding")} == {
        "team-a",
        "team-b",
        charts.NAMESPACE,  # the progress TLS Secret's
    }
    args = _container(objs)["args"]
    assert "--namespace=team-a" in args
    assert "--namespace=team-b" in args
    assert "--all-namespaces" not in args


def test_rbac_rules_say_who_needs_them() -> None:
    helpers = (charts.CHART / "templates" / "_helpers.tpl").read_text()
    lines = helpers.splitlines()
    rule_starts = [i for i, line in enumerate(lines) if line.startswith("- apiGroups:")]
    assert len(rule_starts) == 12
    assert all(lines[i - 1].startswith("# ") for i in rule_starts)


def test_user_roles_aggregate_into_view_edit_admin() -> None:
    roles = {r["metadata"]["name"]: r for r in _by_kind(charts.render(), "ClusterRole")}
    view, edit = roles["textclf-operator-view"], roles["textclf-operator-edit"]
    agg = "rbac.authorization.k8s.io/aggregate-to-"
    assert {f"{agg}view", f"{agg}edit", f"{agg}admin"} <= set(view["metadata"]["labels"])
    assert {f"{agg}edit", f"{agg}admin"} <= set(edit["metadata"]["labels"])
    assert f"{agg}view" not in edit["metadata"]["labels"]
    assert _grants(view["rules"]) == {
        ("textclf.io", kind): {"get", "list", "watch"}
        for kind in (
            "textclassifiermodels",
            "trainingruns",
            "modelevaluations",
            "trainingtemplates",
        )
    }
    edit_grants = _grants(edit["rules"])
    assert set(edit_grants) == {
        ("textclf.io", "textclassifiermodels"),
        ("textclf.io", "trainingruns"),
        ("textclf.io", "modelevaluations"),
    }
    assert all({"create", "update", "delete"} <= verbs for verbs in edit_grants.values())
    off = charts.render({"rbac": {"aggregateUserRoles": False}})
    assert [r["metadata"]["name"] for r in _by_kind(off, "ClusterRole")] == ["textclf-operator"]


# --- the operator Pod -----------------------------------------------------------------------------


def test_operator_deployment() -> None:
    objs = charts.render({"operator": {"trainerServiceAccount": "trainer"}})
    deployment = _one(objs, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    # a rolling update starts the new Pod as a follower (leader election), never two leaders
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    container = _container(objs)
    assert container["command"] == ["kopf", "run"]
    assert container["args"][:4] == [
        "--standalone",
        "-m",
        "textclf_operator",
        "--liveness=http://0.0.0.0:8080/healthz",
    ]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "healthz"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": 9090, "progress": 8081, "healthz": 8080}
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    names = [e["name"] for e in container["env"]]
    assert names.index("POD_NAMESPACE") < names.index("TEXTCLF_PROGRESS_URL")  # $(VAR) order
    assert (
        env["TEXTCLF_PROGRESS_URL"]["value"]
        == "https://textclf-operator.$(POD_NAMESPACE).svc:8081/v1alpha1/progress"
    )
    assert env["TEXTCLF_PROGRESS_TLS_SECRET"]["value"] == "textclf-operator-progress-tls"
    assert env["TEXTCLF_PROGRESS_TLS_GENERATE"]["value"] == "true"
    assert env["TEXTCLF_METRICS_PORT"]["value"] == "9090"
    assert env["TEXTCLF_PROGRESS_PORT"]["value"] == "8081"
    assert env["TEXTCLF_TRAINER_SERVICE_ACCOUNT"]["value"] == "trainer"
    assert env["TEXTCLF_WORKERS"]["value"] == "32"
    assert env["TEXTCLF_LEADER_ELECTION"]["value"] == "true"
    assert env["TEXTCLF_LEADER_LEASE"]["value"] == "textclf-operator"
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    # runs without spec.output write to the default store's claim in their namespace
    assert env["TEXTCLF_ARTIFACT_STORE"]["value"] == "pvc://textclf-artifacts"
    # predictors run the trainer image, the one the TrainingTemplates name
    assert (
        env["TEXTCLF_PREDICTOR_IMAGE"]["value"]
        == "registry.example.com/textclf/textclf-trainer:0.1.0"
    )
    assert "TEXTCLF_TRAINER_SERVICE_ACCOUNT" not in {
        e["name"] for e in _container(charts.render())["env"]
    }
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]["memory"]
    assert container["image"] == "registry.example.com/textclf/textclf-operator:0.1.0"


def test_operator_pod_is_restricted() -> None:
    objs = charts.render()
    pod = _one(objs, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = _container(objs)["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsUser"] == 65532
    assert sc["runAsNonRoot"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in _container(objs)["volumeMounts"]
    assert pod["volumes"][0]["name"] == "tmp"
    assert "emptyDir" in pod["volumes"][0]


def test_image_digest_wins_over_tag() -> None:
    digest = "sha256:" + "a" * 64
    objs = charts.render(
        {"image": {"digest": digest}, "trainingTemplates": {"image": {"tag": "9"}}}
    )
    assert _container(objs)["image"] == f"registry.example.com/textclf/textclf-operator@{digest}"
    images = {t["spec"]["image"] for t in _by_kind(objs, "TrainingTemplate")}
    assert images == {"registry.example.com/textclf/textclf-trainer:9"}
    env = {e["name"]: e.get("value") for e in _container(objs)["env"]}
    assert env["TEXTCLF_PREDICTOR_IMAGE"] == "registry.example.com/textclf/textclf-trainer:9"


# --- Service, ServiceMonitor, NetworkPolicy -------------------------------------------------------


def test_service_ports() -> None:
    service = _one(charts.render(), "Service")
    ports = {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {"metrics": (9090, "metrics"), "progress": (8081, "progress")}
    assert service["metadata"]["name"] == "textclf-operator"


def _progress_tls(values: dict[str, Any]) -> tuple[dict[str, str], str, list[dict[str, Any]]]:
    """For ``values``: the operator's env, the Service's progress appProtocol, the own-namespace
    rules, and any Certificate."""
    objs = charts.render(values)
    env = {e["name"]: e.get("value", "") for e in _container(objs)["env"]}
    service = _one(objs, "Service")
    (port,) = [p for p in service["spec"]["ports"] if p["name"] == "progress"]
    return env, port["appProtocol"], _by_kind(objs, "Certificate")


def test_progress_tls_by_generated_secret_cert_manager_or_off() -> None:
    env, protocol, certificates = _progress_tls({})
    assert env["TEXTCLF_PROGRESS_URL"].startswith("https://")
    assert protocol == "https"
    assert not certificates
    # the installer's own Secret: read, never created
    env, _, _ = _progress_tls({"progressTLS": {"generate": False, "secretName": "mine"}})
    assert env["TEXTCLF_PROGRESS_TLS_SECRET"] == "mine"
    assert env["TEXTCLF_PROGRESS_TLS_GENERATE"] == "false"
    values: dict[str, Any] = {"progressTLS": {"generate": False, "secretName": "mine"}}
    own, _ = _split(charts.operator_rules(values)[0])
    assert _own_grants(own) == {("", "secrets", "mine"): {"get"}, **LEASE_CONTRACT}
    # cert-manager issues it for every name of the Service; the operator only reads it
    issuer = {"name": "in-house", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    values = {"progressTLS": {"certManager": {"enabled": True, "issuerRef": issuer}}}
    env, _, certificates = _progress_tls(values)
    assert env["TEXTCLF_PROGRESS_TLS_GENERATE"] == "false"
    (certificate,) = certificates
    assert certificate["spec"]["secretName"] == env["TEXTCLF_PROGRESS_TLS_SECRET"]
    assert certificate["spec"]["issuerRef"] == issuer
    service = f"textclf-operator.{charts.NAMESPACE}"
    assert certificate["spec"]["dnsNames"] == [
        "textclf-operator",
        service,
        f"{service}.svc",
        f"{service}.svc.cluster.local",
    ]
    own, _ = _split(charts.operator_rules(values)[0])
    assert _own_grants(own) == {
        ("", "secrets", "textclf-operator-progress-tls"): {"get"},
        **LEASE_CONTRACT,
    }
    # off: plain HTTP, and no rights on Secrets at all
    values = {"progressTLS": {"enabled": False}}
    env, protocol, _ = _progress_tls(values)
    assert env["TEXTCLF_PROGRESS_URL"].startswith("http://")
    assert protocol == "http"
    assert "TEXTCLF_PROGRESS_TLS_SECRET" not in env
    assert _own_grants(_split(charts.operator_rules(values)[0])[0]) == LEASE_CONTRACT


def test_service_monitor_is_off_by_default_and_scrapes_metrics() -> None:
    assert not _by_kind(charts.render(), "ServiceMonitor")
    monitor = _one(
        charts.render({"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}}),
        "ServiceMonitor",
    )
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics"
    assert endpoint["path"] == "/metrics"


def test_network_policy() -> None:
    policy = _one(charts.render(), "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress"]  # egress open: the API server's address varies
    progress, metrics = policy["ingress"]
    assert progress["ports"] == [{"port": "progress", "protocol": "TCP"}]
    assert progress["from"] == [
        {
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/part-of": "textclf",
                    "app.kubernetes.io/component": "trainer",
                }
            },
            "namespaceSelector": {},
        }
    ]
    assert metrics["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert metrics["from"][0] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    scoped = _one(charts.render({"watchNamespaces": ["team-a"]}), "NetworkPolicy")["spec"]
    assert scoped["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"] == [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a"]}
    ]
    assert not _by_kind(charts.render({"networkPolicy": {"enabled": False}}), "NetworkPolicy")


# --- TrainingTemplates and the test hook ----------------------------------------------------------


def template_specs() -> dict[str, dict[str, Any]]:
    """The chart's TrainingTemplate specs (less image) by name: where generation from the trainer's
    registry plugs in (compare them with what the generator makes)."""
    folder = charts.CHART / "files" / "templates"
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted(folder.glob("*.yaml"))}


def test_chart_templates_match_the_trainers_registry() -> None:
    generated = charts.chart_templates()
    on_disk = {p.name: p.read_text() for p in charts.TEMPLATES.glob("*.yaml")}
    assert on_disk == generated, (
        "charts/.../files/templates drifted from textclf_trainer.catalogue: run `make manifests`"
    )


def test_default_training_templates() -> None:
    specs = template_specs()
    assert set(specs) == {"hf-advanced", "hf-lora", "embedding-logreg"}
    rendered = {t["metadata"]["name"]: t for t in _by_kind(charts.render(), "TrainingTemplate")}
    assert set(rendered) == set(specs)
    for name, template in rendered.items():
        assert template["metadata"]["annotations"] == {
            "helm.sh/hook": "post-install,post-upgrade",
            "helm.sh/hook-delete-policy": "hook-failed",
        }
        assert "namespace" not in template["metadata"]
        spec = dict(template["spec"])
        assert spec.pop("image") == "registry.example.com/textclf/textclf-trainer:0.1.0"
        assert json.dumps(spec, sort_keys=True) == json.dumps(specs[name], sort_keys=True)
        for key in ("description", "defaults", "paramsSchema", "resources"):
            assert spec[key], f"{name}: no {key}"
    plain = _by_kind(charts.render({"trainingTemplates": {"hook": False}}), "TrainingTemplate")
    assert all("annotations" not in t["metadata"] for t in plain)
    assert not _by_kind(charts.render({"trainingTemplates": {"create": False}}), "TrainingTemplate")


def test_helm_test_pod_fetches_metrics() -> None:
    objs = charts.render()
    (pod,) = [o for o in objs if o["kind"] == "Pod"]
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "chart-test"
    script = pod["spec"]["containers"][0]["command"][-1]
    assert "http://textclf-operator.textclf-system.svc:9090/metrics" in script
    compile(script, "test-metrics", "exec")
    sc = pod["spec"]["containers"][0]["securityContext"]
    assert sc["readOnlyRootFilesystem"]
    assert sc["capabilities"] == {"drop": ["ALL"]}
    skipped = charts.render(extra=("--skip-tests",))
    assert not [o for o in skipped if o["kind"] == "Pod"]


def test_every_object_has_the_standard_labels() -> None:
    objs = charts.render({"watchNamespaces": ["a"], "serviceMonitor": {"enabled": True}})
    for obj in objs:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "textclf-operator", obj["kind"]
        assert labels["app.kubernetes.io/instance"] == charts.RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "textclf"
        assert labels["app.kubernetes.io/version"] == "0.1.0"
        assert labels["helm.sh/chart"] == "textclf-operator-0.1.0"


def test_names_follow_the_release() -> None:
    objs = charts.render(release="prod")
    assert _one(objs, "Deployment")["metadata"]["name"] == "prod-textclf-operator"
    objs = charts.render({"fullnameOverride": "tc"})
    assert _one(objs, "Service")["metadata"]["name"] == "tc"


# --- the schema refuses bad values ----------------------------------------------------------------

BAD_VALUES = [
    ({"crds": {"instal": True}}, "instal"),
    ({"crds": {"install": "yes"}}, "/crds/install"),
    ({"replicaCount": -1}, "/replicaCount"),
    ({"watchNamespaces": "team-a"}, "/watchNamespaces"),
    ({"watchNamespaces": ["Team_A"]}, "/watchNamespaces/0"),
    ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
    ({"image": {"digest": "latest"}}, "/image/digest"),
    ({"operator": {"logFormat": "yaml"}}, "/operator/logFormat"),
    ({"operator": {"workers": 0}}, "/operator/workers"),
    ({"serviceMonitor": {"interval": "soon"}}, "/serviceMonitor/interval"),
    ({"trainingTemplates": {"image": {"repository": ""}}}, "/trainingTemplates/image/repository"),
    ({"resources": {"limits": {"memory": "lots"}}}, "/resources/limits/memory"),
    ({"networkPolicy": {"metricsNamespaceSelector": {"matchNames": ["x"]}}}, "matchNames"),
    ({"progressTLS": {"secretName": "Not_A_Name"}}, "/progressTLS/secretName"),
    ({"progressTLS": {"certManager": {"issuerRef": {"kind": "Vault"}}}}, "issuerRef/kind"),
    ({"artifactStore": "ftp://host/models"}, "/artifactStore"),
    ({"unknownTopLevel": 1}, "unknownTopLevel"),
]


@pytest.mark.parametrize(("values", "named"), BAD_VALUES, ids=[n for _, n in BAD_VALUES])
def test_schema_refuses_bad_values_naming_them(values: dict[str, Any], named: str) -> None:
    done = charts.template(values)
    assert done.returncode != 0, f"accepted {values}"
    assert named in done.stderr, done.stderr


def test_service_account_name_required_when_not_created() -> None:
    done = charts.template({"serviceAccount": {"create": False}})
    assert done.returncode != 0
    assert "serviceAccount.name is required" in done.stderr
    objs = charts.render({"serviceAccount": {"create": False, "name": "ops"}})
    assert not _by_kind(objs, "ServiceAccount")
    assert charts.operator_rules({"serviceAccount": {"create": False, "name": "ops"}})[1] == "ops"


def test_ci_values_files_render(tmp_path: pathlib.Path) -> None:
    for values in sorted((charts.CHART / "ci").glob("*-values.yaml")):
        assert charts.render(yaml.safe_load(values.read_text()) or {}), values.name
