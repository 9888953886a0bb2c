{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "web-frontend.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name when it already contains the chart name. */}}
{{- define "web-frontend.fullname" -}}
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

{{- define "web-frontend.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "web-frontend.labels" -}}
helm.sh/chart: {{ include "web-frontend.chart" . }}
{{ include "web-frontend.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ai-platform
app.kubernetes.io/component: frontend
{{- end }}

{{- define "web-frontend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "web-frontend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "web-frontend.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "web-frontend.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference; a tag is required (no implicit latest). */}}
{{- define "web-frontend.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString }}
{{- if eq $tag "latest" }}{{ fail "web-frontend: image.tag must be a version, not latest" }}{{ end }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}

{{/* The gateway this UI proxies to: explicit, else the umbrella's gateway Service of this release. */}}
{{- define "web-frontend.gatewayUrl" -}}
{{- .Values.gatewayUrl | default (printf "http://%s-gateway:8090" .Release.Name) }}
{{- end }}
