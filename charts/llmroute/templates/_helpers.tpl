{{/* The chart's name. */}}
{{- define "llmroute.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object's name: the release name when it holds the chart's name, else <release>-llmroute. */}}
{{- define "llmroute.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "llmroute.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmroute.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "llmroute.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: llmroute
{{- end -}}

{{- define "llmroute.selectorLabels" -}}
app.kubernetes.io/name: {{ include "llmroute.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "llmroute.operatorName" -}}{{ include "llmroute.fullname" . }}-operator{{- end -}}
{{- define "llmroute.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "llmroute.operatorName" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}
{{- define "llmroute.webhookServiceName" -}}{{ include "llmroute.fullname" . }}-webhook{{- end -}}
{{- define "llmroute.webhookSecretName" -}}{{ include "llmroute.fullname" . }}-webhook-tls{{- end -}}
{{- define "llmroute.webhookConfigName" -}}{{ include "llmroute.fullname" . }}{{- end -}}
{{- define "llmroute.metricsServiceName" -}}{{ include "llmroute.fullname" . }}-metrics{{- end -}}
{{- define "llmroute.leaseName" -}}{{ include "llmroute.fullname" . }}-operator{{- end -}}

{{/* An image reference: repository@digest, else repository:tag (default: appVersion). */}}
{{- define "llmroute.image" -}}
{{- $img := index . 0 -}}{{- $root := index . 1 -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default $root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* The restricted Pod Security Standard, for a container. */}}
{{- define "llmroute.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* keyDestinations.allowedHosts as the operator's --allowed-base-url-hosts value: provider=host,... (empty: nothing allowed). */}}
{{- define "llmroute.allowedBaseUrlHosts" -}}
{{- $pairs := list -}}
{{- range $provider, $hosts := .Values.keyDestinations.allowedHosts -}}
{{- range $hosts -}}
{{- $pairs = append $pairs (printf "%s=%s" $provider .) -}}
{{- end -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}
