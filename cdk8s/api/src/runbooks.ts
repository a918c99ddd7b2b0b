// Where each alert's runbook_url annotation points: <base>#<alert name in lower case>, GitHub's
// anchor of the alert's `## Name` heading in docs/runbooks/alerts.md. One default for the chart's
// prometheusRule.runbookBaseUrl (checked by scripts/chart.test.ts), which the chart also passes
// as the operator's --runbook-base-url, the default of every desk's alerts; a desk can still set
// spec.monitoring.prometheusRule.runbookBaseUrl. docs/monitoring.md tells how to point it at
// your own copy of the runbooks.
export const DEFAULT_RUNBOOK_BASE_URL = 'https://github.com/veloz/veloz/blob/main/docs/runbooks/alerts.md';

/** What a runbook base URL must look like (the CRD field, the operator flag, the chart value). */
export const RUNBOOK_BASE_URL_PATTERN = '^https?://[^\\s#]+$';

/** The runbook section of an alert: GitHub's anchor of its `## Name` heading. */
export const runbookAnchor = (alert: string): string => alert.toLowerCase();

export const runbookUrl = (base: string, alert: string): string => `${base}#${runbookAnchor(alert)}`;
