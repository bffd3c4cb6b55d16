{{/*
Pieces of every pod the chart runs (services, migrations, test): image, hardening, the writable /tmp and the
grace period. Every helper takes (dict "root" $ "component" NAME); the image helper needs gateway or worker.
*/}}

{{/* A service's image: repository@digest when a digest is set, else repository:tag (tag defaults to appVersion). */}}
{{- define "ward.image" -}}
{{- $image := (index .root.Values .component).image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .root.Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/*
The shutdown timeout (its deadline from SIGTERM, the delay included) rounded up to seconds, plus the margin:
the service has exited, one way or the other, well before Kubernetes' SIGKILL.
*/}}
{{- define "ward.terminationGracePeriodSeconds" -}}
{{- $config := .root.Values.config }}
{{- if ge (int $config.shutdownDelayMs) (int $config.shutdownTimeoutMs) }}
{{- fail (printf "config.shutdownTimeoutMs (%v) is the whole shutdown's deadline, so it must exceed config.shutdownDelayMs (%v)" $config.shutdownTimeoutMs $config.shutdownDelayMs) }}
{{- end }}
{{- add (div (add $config.shutdownTimeoutMs 999) 1000) $config.terminationGraceMarginSeconds }}
{{- end }}

{{/*
NODE_OPTIONS that keep V8's heap within 3/4 of the container's memory limit (the rest is code, buffers and
native memory): a 4 MiB semi-space (12 MiB of young generation, whatever V8's version would pick; the same
load ran as fast with it and ended about 30 MB smaller, see bench/README.md) and the old space the rest. An env entry, or nothing without a limit. The resources are the service's, or the
migrations' for component migrate.
*/}}
{{- define "ward.nodeOptionsEnv" -}}
{{- $resources := (eq .component "migrate") | ternary .root.Values.migrations.resources (index .root.Values .component).resources }}
{{- with ($resources.limits | default dict).memory }}
{{- $limit := toString . }}
{{- $unit := regexFind "[a-zA-Z]+$" $limit }}
{{- $bytes := dict "" 1 "k" 1000 "Ki" 1024 "M" 1000000 "Mi" 1048576 "G" 1000000000 "Gi" 1073741824 "T" 1000000000000 "Ti" 1099511627776 }}
{{- if not (hasKey $bytes $unit) }}
{{- fail (printf "memory limit %s: use bytes, k, M, G, T, Ki, Mi, Gi or Ti" $limit) }}
{{- end }}
{{- $mebibytes := divf (mulf (float64 (trimSuffix $unit $limit)) (get $bytes $unit)) 1048576 }}
{{- $oldSpace := sub (int (floor (mulf $mebibytes 0.75))) 12 }}
{{- if lt $oldSpace 64 }}
{{- fail (printf "memory limit %s leaves the V8 heap under 64 MiB of old space: give a ward container 128Mi or more" $limit) }}
{{- end -}}
- name: NODE_OPTIONS
  value: {{ printf "--max-old-space-size=%d --max-semi-space-size=4" $oldSpace | quote }}
{{- end }}
{{- end }}

{{- define "ward.podSecurityContext" -}}
{{- $securityContext := .root.Values.securityContext -}}
runAsNonRoot: true
runAsUser: {{ $securityContext.runAsUser }}
runAsGroup: {{ $securityContext.runAsGroup }}
fsGroup: {{ $securityContext.fsGroup }}
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
    sizeLimit: {{ .root.Values.tmpSizeLimit }}
{{- end }}

{{- define "ward.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}
