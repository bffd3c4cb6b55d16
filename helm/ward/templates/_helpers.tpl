{{/*
Names and labels, and nothing else. Every helper of the chart (here, in _config.tpl and in _pod.tpl) takes
the same argument: (dict "root" $ "component" "gateway"), where component is gateway, worker, migrate, test or
secrets. Helpers that do not depend on the component ignore it.
*/}}

{{/* The chart's name, or nameOverride. */}}
{{- define "ward.name" -}}
{{- default .root.Chart.Name .root.Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-<name>", or the release name alone when it already contains the name, or fullnameOverride. */}}
{{- define "ward.fullname" -}}
{{- $root := .root }}
{{- if $root.Values.fullnameOverride }}
{{- $root.Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default $root.Chart.Name $root.Values.nameOverride }}
{{- if contains $name $root.Release.Name }}
{{- $root.Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" $root.Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
"<fullname>-<component>" within 63 characters: the fullname is shortened, never the component, so the
gateway's and the worker's names stay distinct however long the release name is.
*/}}
{{- define "ward.componentName" -}}
{{- $keep := sub 62 (len .component) | int }}
{{- printf "%s-%s" (include "ward.fullname" . | trunc $keep | trimSuffix "-") .component }}
{{- end }}

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "ward.chart" -}}
{{- printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select a component's pods: stable across upgrades, so never the version or chart. */}}
{{- define "ward.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ward.name" . }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of every object; part-of is the application's name, the same for every release. */}}
{{- define "ward.labels" -}}
helm.sh/chart: {{ include "ward.chart" . }}
{{ include "ward.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/part-of: {{ .root.Chart.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* A service's ServiceAccount: the component's name, or the one given; "default" when the chart makes none. */}}
{{- define "ward.serviceAccountName" -}}
{{- $serviceAccount := (index .root.Values .component).serviceAccount }}
{{- if $serviceAccount.create }}
{{- default (include "ward.componentName" .) $serviceAccount.name }}
{{- else }}
{{- default "default" $serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the services read: the one you manage, or the one the chart makes. */}}
{{- define "ward.secretName" -}}
{{- default (include "ward.fullname" .) .root.Values.secret.existingSecret }}
{{- end }}
