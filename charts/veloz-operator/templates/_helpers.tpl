{{/*
The app.kubernetes.io/name label is fixed: the NetworkPolicy the operator renders for every
VelozDeployment admits the operator's pods by it (cdk8s/render/src/render.ts).
*/}}
{{- define "veloz-operator.name" -}}
veloz-operator
{{- end }}

{{- define "veloz-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains "veloz-operator" .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-veloz-operator" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Cluster-scoped names carry the release namespace: two releases must not share a ClusterRole. */}}
{{- define "veloz-operator.clusterRoleName" -}}
{{- printf "%s-%s" .Release.Namespace (include "veloz-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "veloz-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "veloz-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "veloz-operator.labels" -}}
{{ include "veloz-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: veloz
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "veloz-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "veloz-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "veloz-operator.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* The operator's image, also the default image of the engines and gateways it runs. */}}
{{- define "veloz-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "veloz-operator.metricsServiceName" -}}
{{- printf "%s-metrics" (include "veloz-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* A label map as k=v,k2=v2 (sorted), the form of the operator's --*-pod-labels flags. */}}
{{- define "veloz-operator.labelList" -}}
{{- $out := list }}
{{- range $k, $v := . }}{{ $out = append $out (printf "%s=%s" $k $v) }}{{ end }}
{{- join "," $out }}
{{- end }}
