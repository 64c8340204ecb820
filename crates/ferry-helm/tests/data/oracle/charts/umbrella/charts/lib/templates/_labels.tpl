{{- define "lib.extraLabels" -}}
lib.example.com/from: {{ .Chart.Name }}
{{- end -}}
