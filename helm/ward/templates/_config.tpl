{{/*
The settings contract: which settings each service reads, where each comes from (its ConfigMap or the
Secret), and the checksums that roll its pods when they change. Every helper takes
(dict "root" $ "component" "gateway" | "worker").
*/}}

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
OUTBOX_RETENTION_HOURS: {{ $service.config.outboxRetentionHours | quote }}
{{- else }}
{{- with $service.config.webhookUrl }}
WEBHOOK_URL: {{ . | quote }}
{{- end }}
MAX_ATTEMPTS: {{ $service.config.maxAttempts | quote }}
{{- with $service.config.retryBaseMs }}
RETRY_BASE_MS: {{ . | quote }}
{{- end }}
{{- with $service.config.retryMaxMs }}
RETRY_MAX_MS: {{ . | quote }}
{{- end }}
{{- with $service.config.stalledJobMs }}
STALLED_JOB_MS: {{ . | quote }}
{{- end }}
{{- with $service.config.webhookTimeoutMs }}
WEBHOOK_TIMEOUT_MS: {{ . | quote }}
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
{{- if include "ward.sentryEnabled" . }}
SENTRY_DSN: true
{{- end }}
{{- if eq .component "gateway" }}
JWT_SECRET: true
{{- else }}
WEBHOOK_SIGNING_SECRET: {{ not (empty .root.Values.worker.config.webhookUrl) }}
{{- end }}
{{- end }}

{{/*
"true" when Sentry is on (empty when off): sentry.enabled, or a SENTRY_DSN in the chart's own Secret. The one
place that decides whether the services read SENTRY_DSN and whether the NetworkPolicy lets them reach Sentry.
*/}}
{{- define "ward.sentryEnabled" -}}
{{- $values := .root.Values }}
{{- $chartDsn := and (not $values.secret.existingSecret) $values.secret.values.SENTRY_DSN }}
{{- if and $values.sentry.enabled (not $values.secret.existingSecret) (not $chartDsn) }}
{{- fail "sentry.enabled needs secret.values.SENTRY_DSN (or secret.existingSecret holding SENTRY_DSN)" }}
{{- end }}
{{- if or $values.sentry.enabled $chartDsn }}true{{ end }}
{{- end }}

{{/* env entries: every setting by name, from the service's ConfigMap or the Secret, never inline. */}}
{{- define "ward.env" -}}
{{- $env := list }}
{{- $configMap := include "ward.componentName" . }}
{{- range $name, $_ := fromYaml (include "ward.config" .) }}
{{- $env = append $env (dict "name" $name "valueFrom" (dict "configMapKeyRef" (dict "name" $configMap "key" $name))) }}
{{- end }}
{{- $secret := include "ward.secretName" . }}
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
