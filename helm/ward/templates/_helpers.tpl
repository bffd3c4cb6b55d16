{{/*
Names and labels. Every template takes names and labels from here; most helpers are called with
(dict "root" $ "component" "gateway"), where component is gateway, worker, migrate or test.
*/}}

{{/* The chart's name, or nameOverride. */}}
{{- define "ward.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-<name>", or the release name alone when it already contains the name, or fullnameOverride. */}}
{{- define "ward.fullname" -}}
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

{{/*
"<fullname>-<component>" within 63 characters: the fullname is shortened, never the component, so the
gateway's and the worker's names stay distinct however long the release name is.
*/}}
{{- define "ward.componentName" -}}
{{- $keep := sub 62 (len .component) | int }}
{{- printf "%s-%s" (include "ward.fullname" .root | trunc $keep | trimSuffix "-") .component }}
{{- end }}

{{- define "ward.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select a component's pods: stable across upgrades, so never the version or chart. */}}
{{- define "ward.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ward.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of every object; part-of is the application's name, the same for every release. */}}
{{- define "ward.labels" -}}
helm.sh/chart: {{ include "ward.chart" .root }}
{{ include "ward.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/part-of: {{ .root.Chart.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* A service's image: repository@digest when a digest is set, else repository:tag (tag defaults to appVersion). */}}
{{- define "ward.image" -}}
{{- $image := (index .root.Values .component).image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .root.Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{- define "ward.serviceAccountName" -}}
{{- $sa := (index .root.Values .component).serviceAccount }}
{{- if $sa.create }}
{{- default (include "ward.componentName" .) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{/* The Secret the services read: the one you manage, or the one the chart makes. */}}
{{- define "ward.secretName" -}}
{{- default (include "ward.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/*
A service's non-secret settings as a YAML map of environment variables: the data of its ConfigMap, and the
list its container reads one by one with configMapKeyRef. Optional settings left empty are left out.
*/}}
{{- define "ward.config" -}}
{{- $values := .root.Values }}
{{- $service := index $values .component -}}
PORT: {{ $service.port | quote }}
ENVIRONMENT: {{ $values.config.environment | quote }}
LOG_LEVEL: {{ $values.config.logLevel | quote }}
LOG_FORMAT: {{ $values.config.logFormat | quote }}
SLOW_REQUEST_MS: {{ $values.config.slowRequestMs | quote }}
{{- with $values.config.redisKeyPrefix }}
REDIS_KEY_PREFIX: {{ . | quote }}
{{- end }}
SHUTDOWN_DELAY_MS: {{ $values.config.shutdownDelayMs | quote }}
SHUTDOWN_TIMEOUT_MS: {{ $values.config.shutdownTimeoutMs | quote }}
{{- if eq .component "gateway" }}
WORKER_URL: {{ printf "http://%s:%v" (include "ward.componentName" (dict "root" .root "component" "worker")) $values.worker.port | quote }}
{{- with $service.config.corsOrigins }}
CORS_ORIGINS: {{ join "," . | quote }}
{{- end }}
{{- else }}
{{- with $service.config.webhookUrl }}
WEBHOOK_URL: {{ . | quote }}
{{- end }}
MAX_ATTEMPTS: {{ $service.config.maxAttempts | quote }}
{{- range $name, $key := dict "WEBHOOK_TIMEOUT_MS" "webhookTimeoutMs" "RETRY_BASE_MS" "retryBaseMs" "RETRY_MAX_MS" "retryMaxMs" "STALLED_JOB_MS" "stalledJobMs" }}
{{- with index $service.config $key }}
{{ $name }}: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The secret settings a service reads, as a YAML map of variable name to "is it required". An optional one is
referenced with optional: true, so a Secret without that key leaves the variable unset.
*/}}
{{- define "ward.secretKeys" -}}
DATABASE_URL: true
REDIS_URL: true
WORKER_TOKEN: true
SENTRY_DSN: false
{{- if eq .component "gateway" }}
JWT_SECRET: true
{{- else }}
WEBHOOK_SIGNING_SECRET: {{ not (empty .root.Values.worker.config.webhookUrl) }}
{{- end }}
{{- end }}

{{/* env entries: every setting by name, from the service's ConfigMap or the Secret, never inline. */}}
{{- define "ward.env" -}}
{{- $env := list }}
{{- $configMap := include "ward.componentName" . }}
{{- range $name, $_ := fromYaml (include "ward.config" .) }}
{{- $env = append $env (dict "name" $name "valueFrom" (dict "configMapKeyRef" (dict "name" $configMap "key" $name))) }}
{{- end }}
{{- $secret := include "ward.secretName" .root }}
{{- range $name, $required := fromYaml (include "ward.secretKeys" .) }}
{{- $ref := dict "name" $secret "key" $name }}
{{- if not $required }}
{{- $_ := set $ref "optional" true }}
{{- end }}
{{- $env = append $env (dict "name" $name "valueFrom" (dict "secretKeyRef" $ref)) }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{/*
Pod annotations that roll the pods when what they read changes: the service's ConfigMap, and the Secret's
values for the keys it reads. An existingSecret's content is unknown here, so it gets no checksum.
*/}}
{{- define "ward.checksums" -}}
checksum/config: {{ include "ward.config" . | sha256sum }}
{{- if not .root.Values.secret.existingSecret }}
{{- $read := dict }}
{{- range $name, $_ := fromYaml (include "ward.secretKeys" .) }}
{{- $_ := set $read $name (get $.root.Values.secret.values $name) }}
{{- end }}
checksum/secret: {{ toJson $read | sha256sum }}
{{- end }}
{{- end }}

{{/* (delay + timeout) rounded up to seconds, plus the margin: the service exits well before SIGKILL. */}}
{{- define "ward.terminationGracePeriodSeconds" -}}
{{- $config := .Values.config }}
{{- add (div (add $config.shutdownDelayMs $config.shutdownTimeoutMs 999) 1000) $config.terminationGraceMarginSeconds }}
{{- end }}

{{- define "ward.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "ward.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
{{- end }}

{{/* The only writable place in a pod: an emptyDir at /tmp. Pair "ward.tmpVolume" with "ward.tmpVolumeMount". */}}
{{- define "ward.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{- define "ward.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* A NetworkPolicy egress rule: the target's ports (TCP unless protocols says otherwise), to its cidrs if any. */}}
{{- define "ward.egressRule" -}}
- ports:
    {{- range $port := .target.ports }}
    {{- range $protocol := $.protocols | default (list "TCP") }}
    - port: {{ $port }}
      protocol: {{ $protocol }}
    {{- end }}
    {{- end }}
  {{- with .target.cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}
