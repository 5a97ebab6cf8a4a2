{{/*
Names, labels, images and the operator's RBAC rules, shared by the templates.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "textclf-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name: fullnameOverride, or RELEASE-NAME, or RELEASE when it already
contains the name. Truncated to 63 characters (DNS label limit).
*/}}
{{- define "textclf-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "textclf-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "textclf-operator.labels" -}}
helm.sh/chart: {{ include "textclf-operator.chart" . }}
{{ include "textclf-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: textclf
{{- end }}

{{/* Labels that select the operator's Pods (never change them: Deployment selectors are immutable). */}}
{{- define "textclf-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "textclf-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "textclf-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "textclf-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* An image reference from {repository, tag, digest}; the tag defaults to the appVersion. */}}
{{- define "textclf-operator.image" -}}
{{- $image := index . 0 }}
{{- $root := index . 1 }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/* The ports the operator listens on; the operator reads the first two from its environment. */}}
{{- define "textclf-operator.metricsPort" -}}9090{{- end }}
{{- define "textclf-operator.progressPort" -}}8081{{- end }}
{{- define "textclf-operator.healthzPort" -}}8080{{- end }}

{{/*
The operator's rules on namespaced resources: a ClusterRole's rules in cluster-wide mode, each watched
namespace's Role in namespaced mode. Keep in step with the operator (the RBAC test impersonates it).
*/}}
{{- define "textclf-operator.namespacedRules" -}}
# The reconciler watches models and runs; patch is kopf's finalizers and annotations bookkeeping.
- apiGroups: ["textclf.io"]
  resources: ["trainingruns", "textclassifiermodels"]
  verbs: ["get", "list", "watch", "patch"]
# The reconciler is the single writer of their status.
- apiGroups: ["textclf.io"]
  resources: ["trainingruns/status", "textclassifiermodels/status"]
  verbs: ["get", "patch", "update"]
# The reconciler creates each run's training Job, patches spec.suspend, deletes it on cleanup.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# The reconciler follows training Pods and reads their termination messages (the final result).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
# kopf and the reconciler post an Event at every transition (both Event APIs).
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/* The operator's rules that only a ClusterRole can grant (cluster-scoped resources). */}}
{{- define "textclf-operator.clusterRules" -}}
# The reconciler reads the (cluster-scoped) TrainingTemplates that runs name.
- apiGroups: ["textclf.io"]
  resources: ["trainingtemplates"]
  verbs: ["get", "list", "watch"]
# The progress endpoint checks trainers' projected ServiceAccount tokens with a TokenReview.
- apiGroups: ["authentication.k8s.io"]
  resources: ["tokenreviews"]
  verbs: ["create"]
# kopf scans the CRDs of the resources it serves.
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch"]
{{- end }}

{{/* Rules of the cluster-wide mode only. */}}
{{- define "textclf-operator.allNamespacesRules" -}}
# kopf watches namespaces to serve every one of them (--all-namespaces).
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list", "watch"]
{{- end }}
