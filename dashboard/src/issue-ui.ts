/** What the issue list and an issue's page both show: its status in words and icons. */
import { h, icon } from './dom.js';
import type { IssueSummary } from './types.js';

const STATUS: Record<string, { label: string; tone: string; icon: 'check' | 'cross' | 'dot' | 'clock' }> = {
  open: { label: 'open', tone: 'bad', icon: 'dot' },
  resolved: { label: 'resolved', tone: 'good', icon: 'check' },
  ignored: { label: 'ignored', tone: 'muted', icon: 'clock' },
};

/** The status badge, and a "regression" badge beside it when a resolved issue came back. */
export function issueBadges(issue: Pick<IssueSummary, 'status' | 'regression'>): HTMLElement {
  const status = STATUS[issue.status] ?? { label: issue.status, tone: 'muted', icon: 'dot' as const };
  return h('span', { class: 'issue-badges' },
    h('span', { class: `badge badge-${status.tone}`, 'data-testid': 'issue-status', 'data-status': issue.status }, icon(status.icon), status.label),
    issue.regression ? h('span', { class: 'badge badge-warn', 'data-testid': 'issue-regression', title: 'Resolved, then seen again' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '↺'), 'regression') : null);
}
