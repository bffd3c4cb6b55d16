{{/*
A NetworkPolicy egress rule for one target of networkPolicy.egress: its ports (TCP unless protocols says
otherwise), to its cidrs if any. Takes (dict "root" $ "component" NAME "target" "postgres"), plus
"protocols" (list "UDP" "TCP") where TCP alone is not enough, and "ports" where they come from a setting.
*/}}
{{- define "ward.egressRule" -}}
{{- $target := index .root.Values.networkPolicy.egress .target -}}
- ports:
    {{- range $port := .ports | default $target.ports }}
    {{- range $protocol := $.protocols | default (list "TCP") }}
    - port: {{ $port }}
      protocol: {{ $protocol }}
    {{- end }}
    {{- end }}
  {{- with $target.cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
The TCP port a URL reaches: the one it names, else 443 for https and 80 for http. Takes
(dict "root" $ "component" NAME "url" "http://hooks.internal:8080/ward").
*/}}
{{- define "ward.urlPort" -}}
{{- $url := urlParse .url }}
{{- $named := regexFind ":[0-9]+$" $url.host | trimPrefix ":" }}
{{- $named | default (eq $url.scheme "http" | ternary "80" "443") }}
{{- end }}
