{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "model-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name when it already contains the chart name. */}}
{{- define "model-service.fullname" -}}
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

{{- define "model-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "model-service.labels" -}}
helm.sh/chart: {{ include "model-service.chart" . }}
{{ include "model-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ai-platform
app.kubernetes.io/component: model-service
{{- end }}

{{- define "model-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "model-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The chart's values over the preset's (presets/<preset>.yaml), as YAML: include and fromYaml.
A preset's value is used where the chart's value is unset or empty. */}}
{{- define "model-service.values" -}}
{{- $preset := dict }}
{{- if .Values.preset }}
{{- $text := .Files.Get (printf "presets/%s.yaml" .Values.preset) }}
{{- if not $text }}{{ fail (printf "model-service: unknown preset %q: one of vlm, audio, document-qa, translation" .Values.preset) }}{{ end }}
{{- $preset = fromYaml $text }}
{{- end }}
{{- $merged := mustMerge (deepCopy .Values) $preset }}
{{- if $merged.keda.enabled }}
{{- /* KEDA owns the replica count: KServe must not make an HPA of its own */}}
{{- $ai := $merged.aiService | default dict }}
{{- $scaling := $ai.scaling | default dict }}
{{- $_ := set $scaling "autoscaler" "external" }}
{{- $_ := set $ai "scaling" $scaling }}
{{- $_ := set $merged "aiService" $ai }}
{{- end }}
{{- if $merged.chroma.enabled }}
{{- /* the chart's Chroma server (templates/chroma.yaml): the replicas share it */}}
{{- $ai := $merged.aiService | default dict }}
{{- $env := $ai.env | default dict }}
{{- $_ := set $env "DOCQA_CHROMA_URL" (printf "http://%s.%s.svc:8000" (include "model-service.chromaName" .) .Release.Namespace) }}
{{- $_ := set $ai "env" $env }}
{{- $scaling := $ai.scaling | default dict }}
{{- if not (hasKey ((.Values.aiService | default dict).scaling | default dict) "maxReplicas") }}
{{- $_ := set $scaling "maxReplicas" 3 }}
{{- end }}
{{- $_ := set $ai "scaling" $scaling }}
{{- $_ := set $merged "aiService" $ai }}
{{- end }}
{{- toYaml $merged }}
{{- end }}

{{/* The chart's Chroma server (chroma.enabled): name and labels. */}}
{{- define "model-service.chromaName" -}}
{{- printf "%s-chroma" (include "model-service.fullname" . | trunc 56 | trimSuffix "-") }}
{{- end }}

{{- define "model-service.chromaSelectorLabels" -}}
app.kubernetes.io/name: chroma
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ include "model-service.chromaName" . }}
{{- end }}

{{- define "model-service.chromaLabels" -}}
helm.sh/chart: {{ include "model-service.chart" . }}
{{ include "model-service.chromaSelectorLabels" . }}
app.kubernetes.io/version: {{ .Values.chroma.image.tag | toString | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ai-platform
{{- end }}

{{/* The AIService's name: the preset's or name, else the release fullname. */}}
{{- define "model-service.serviceName" -}}
{{- $v := include "model-service.values" . | fromYaml }}
{{- $v.name | default (include "model-service.fullname" .) | trunc 45 | trimSuffix "-" }}
{{- end }}

{{/* The image reference; a tag is required (no implicit latest). */}}
{{- define "model-service.image" -}}
{{- $v := include "model-service.values" . | fromYaml }}
{{- if not $v.image.repository }}{{ fail "model-service: set image.repository (or a preset)" }}{{ end }}
{{- $tag := $v.image.tag | default .Chart.AppVersion | toString }}
{{- if eq $tag "latest" }}{{ fail "model-service: image.tag must be a version, not latest" }}{{ end }}
{{- printf "%s:%s" $v.image.repository $tag }}
{{- end }}
