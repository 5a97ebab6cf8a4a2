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

{{/* The trainer image: what the TrainingTemplates and the predictor Deployments run. */}}
{{- define "textclf-operator.trainerImage" -}}
{{- include "textclf-operator.image" (list .Values.trainingTemplates.image .) }}
{{- end }}

{{/* The ports the operator listens on; the operator reads the first two from its environment. */}}
{{- define "textclf-operator.metricsPort" -}}9090{{- end }}
{{- define "textclf-operator.progressPort" -}}8081{{- end }}

{{/* The Secret of the progress endpoint's certificate. */}}
{{- define "textclf-operator.progressTLSSecret" -}}
{{- .Values.progressTLS.secretName | default (printf "%s-progress-tls" (include "textclf-operator.fullname" .)) }}
{{- end }}

{{/* Whether the operator makes that Secret itself (not when cert-manager issues it). */}}
{{- define "textclf-operator.progressTLSGenerate" -}}
{{- and .Values.progressTLS.generate (not .Values.progressTLS.certManager.enabled) }}
{{- end }}
{{- define "textclf-operator.healthzPort" -}}8080{{- end }}

{{/*
The operator's rules on namespaced resources: a ClusterRole's rules in cluster-wide mode, each watched
namespace's Role in namespaced mode. Keep in step with the operator: tests/operator/test_rbac.py
runs it as this ServiceAccount and fails on a refused request or a rule it never uses.
*/}}
{{- define "textclf-operator.namespacedRules" -}}
# The operator's watches (kopf) list and watch models, runs and evaluations; it never writes their spec.
- apiGroups: ["textclf.io"]
  resources: ["trainingruns", "textclassifiermodels", "modelevaluations"]
  verbs: ["list", "watch"]
# The reconciler is the single writer of their status (JSON Patch of the status subresource).
- apiGroups: ["textclf.io"]
  resources: ["trainingruns/status", "textclassifiermodels/status", "modelevaluations/status"]
  verbs: ["patch"]
# What it makes is owned with blockOwnerDeletion (the owner waits for it in foreground deletion):
# where OwnerReferencesPermissionEnforcement is on (OpenShift), that takes update on the owner's
# finalizers, checked at admission; without it every Job, Deployment and Service is refused.
- apiGroups: ["textclf.io"]
  resources: ["trainingruns/finalizers", "textclassifiermodels/finalizers", "modelevaluations/finalizers"]
  verbs: ["update"]
# The reconciler creates each run's training Job (and each evaluation's Job) and patches spec.suspend; it reads a Job back
# before it declares a run's Job lost. It deletes a finished run's Job itself, ttlSecondsAfterFinished
# after the run's status holds the result (a Job-controller TTL could delete the result unread).
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# The operator's watches follow training Pods (phase, exit code, termination message).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
# The reconciler posts an Event at every status transition.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
# A served model's predictor Deployment: watched (its rollout becomes the model's status), written
# by server-side apply (patch; create when the apply makes it), deleted when serving is turned off.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["list", "watch", "create", "patch", "delete"]
# A served model's predictor Service: the same, so a Service deleted by hand comes back.
- apiGroups: [""]
  resources: ["services"]
  verbs: ["list", "watch", "create", "patch", "delete"]
{{- end }}

{{/* The operator's rules that only a ClusterRole can grant (cluster-scoped resources). */}}
{{- define "textclf-operator.clusterRules" -}}
# The operator's watches list and watch the (cluster-scoped) TrainingTemplates that runs name.
- apiGroups: ["textclf.io"]
  resources: ["trainingtemplates"]
  verbs: ["list", "watch"]
# The reconciler writes each template's Valid condition (is its paramsSchema usable?).
- apiGroups: ["textclf.io"]
  resources: ["trainingtemplates/status"]
  verbs: ["patch"]
# The progress endpoint checks trainers' projected ServiceAccount tokens with a TokenReview.
- apiGroups: ["authentication.k8s.io"]
  resources: ["tokenreviews"]
  verbs: ["create"]
# kopf lists and watches CRDs to learn which resources it serves.
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["list", "watch"]
{{- end }}
