{{/*
A NetworkPolicy egress rule for one target of networkPolicy.egress: its ports (TCP unless protocols says
otherwise), to its cidrs if any. Takes (dict "root" $ "component" NAME "target" "postgres"), plus
"protocols" (list "UDP" "TCP") where TCP alone is not enough.
*/}}
{{- define "ward.egressRule" -}}
{{- $target := index .root.Values.networkPolicy.egress .target -}}
- ports:
    {{- range $port := $target.ports }}
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
