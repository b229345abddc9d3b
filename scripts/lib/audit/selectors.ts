/**
 * Kubernetes label selectors, evaluated the way the API server does for a webhook's
 * `namespaceSelector` and `objectSelector`: every `matchLabels` pair and every
 * `matchExpressions` requirement must hold (In, NotIn, Exists, DoesNotExist). An absent or empty
 * selector matches everything. Pure: no I/O.
 */

/** A LabelSelector as the API returns it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** Labels of an object (absent labels are `{}`). */
export type Labels = Readonly<Record<string, string>>;

/** Why a selector does not match, as one phrase, or undefined when it matches. */
export function selectorMismatch(selector: LabelSelector | undefined, labels: Labels): string | undefined {
  if (selector === undefined) return undefined;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value)
      return `needs label ${key}=${value}${key in labels ? ` (has ${key}=${labels[key]})` : ''}`;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const value = labels[key];
    switch (operator) {
      case 'In':
        if (!has || !values.includes(value ?? ''))
          return `needs label ${key} in (${values.join(', ')})${has ? ` (has ${key}=${value})` : ''}`;
        break;
      case 'NotIn':
        // As in Kubernetes: an object without the key satisfies NotIn.
        if (has && values.includes(value ?? ''))
          return `has label ${key}=${value}, excluded by NotIn (${values.join(', ')})`;
        break;
      case 'Exists':
        if (!has) return `needs label ${key} to exist`;
        break;
      case 'DoesNotExist':
        if (has) return `has label ${key}, excluded by DoesNotExist`;
        break;
      default:
        // The API server refuses unknown operators when the webhook is created; be safe anyway.
        return `has an unknown selector operator "${operator}" on ${key}`;
    }
  }
  return undefined;
}

/** True when `selector` matches `labels`. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Labels): boolean {
  return selectorMismatch(selector, labels) === undefined;
}
