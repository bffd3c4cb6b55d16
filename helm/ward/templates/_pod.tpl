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

{{/* (delay + timeout) rounded up to seconds, plus the margin: the service exits well before SIGKILL. */}}
{{- define "ward.terminationGracePeriodSeconds" -}}
{{- $config := .root.Values.config }}
{{- add (div (add $config.shutdownDelayMs $config.shutdownTimeoutMs 999) 1000) $config.terminationGraceMarginSeconds }}
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
