{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name when it already contains the chart name. */}}
{{- define "gateway.fullname" -}}
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

{{- define "gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gateway.labels" -}}
helm.sh/chart: {{ include "gateway.chart" . }}
{{ include "gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ai-platform
app.kubernetes.io/component: gateway
{{- end }}

{{- define "gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The rate-limit Redis: its own name label, so the gateway's selectors never match it. */}}
{{- define "gateway.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "gateway.name" . }}-redis
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gateway.redisLabels" -}}
helm.sh/chart: {{ include "gateway.chart" . }}
{{ include "gateway.redisSelectorLabels" . }}
app.kubernetes.io/version: {{ .Values.redis.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ai-platform
app.kubernetes.io/component: gateway-redis
{{- end }}

{{- define "gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference; a tag is required (no implicit latest). */}}
{{- define "gateway.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString }}
{{- if eq $tag "latest" }}{{ fail "gateway: image.tag must be a version, not latest" }}{{ end }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}

{{/* SQLite keeps its file on one ReadWriteOnce volume: one replica only. */}}
{{- define "gateway.validate" -}}
{{- if eq .Values.database.type "sqlite" }}
{{- if or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled }}
{{- fail (printf "gateway: replicaCount=%v%s needs PostgreSQL: SQLite keeps its file on one volume and serves one replica. Set database.type=postgresql and database.postgresql.existingSecret (a Secret with the SQLAlchemy URL), or use replicaCount=1 without autoscaling." (.Values.replicaCount) (ternary " with autoscaling" "" .Values.autoscaling.enabled)) }}
{{- end }}
{{- else if eq .Values.database.type "postgresql" }}
{{- if not .Values.database.postgresql.existingSecret }}
{{- fail "gateway: database.type=postgresql needs database.postgresql.existingSecret: the name of a Secret whose key (database.postgresql.key) holds the SQLAlchemy URL" }}
{{- end }}
{{- end }}
{{- end }}
