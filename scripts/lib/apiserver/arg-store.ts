/**
 * Uniform access to kube-apiserver flags however a config format writes them: `--name=value`
 * strings (static pod command, k3s/rke2 `kube-apiserver-arg`), `{ name, value }` lists (kubeadm
 * v1beta4 extraArgs) or a `name: value` map (kubeadm v1beta3, Talos extraArgs). Edits are made in
 * place on the yaml nodes, so comments and the order of untouched entries survive.
 */
import { type Document, isMap, isScalar, type Node, Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { IrsaError } from '#core/errors.ts';

/** Flags of one kube-apiserver, by name without the leading dashes. */
export interface ArgStore {
  /** False for map forms, which hold at most one value per flag. */
  readonly repeatable: boolean;
  /** Every value of a flag, in order; empty when absent. */
  get(name: string): string[];
  /** Makes the flag hold exactly these values (none removes it), editing existing entries in place. */
  set(name: string, values: readonly string[]): void;
}

interface Entry {
  node: Node;
  name: string;
  value: string;
}

/** Flags this tool reads; they must be written in the `name=value` form. */
const MANAGED = /^(service-account-|api-audiences$|feature-gates$)/;

function scalarText(node: unknown): string | null {
  if (!isScalar(node)) return null;
  const value = node.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function invalid(where: string, problem: string, fix: string): IrsaError {
  return new IrsaError('APISERVER_CONFIG_INVALID', `${where}: ${problem}.`, fix);
}

abstract class SeqArgs implements ArgStore {
  readonly repeatable = true;
  constructor(
    protected readonly doc: Document,
    protected readonly seq: YAMLSeq,
    protected readonly where: string,
  ) {}

  protected abstract parse(node: unknown): Entry | null;
  protected abstract make(name: string, value: string): Node;
  protected abstract update(entry: Entry, value: string): void;

  protected entries(): Entry[] {
    const entries: Entry[] = [];
    for (const node of this.seq.items) {
      const entry = this.parse(node);
      if (entry !== null) entries.push(entry);
    }
    return entries;
  }

  get(name: string): string[] {
    return this.entries()
      .filter((entry) => entry.name === name)
      .map((entry) => entry.value);
  }

  set(name: string, values: readonly string[]): void {
    const before = this.seq.items.slice();
    this.setKeepingNodes(name, values);
    const after = this.get(name);
    if (after.length === values.length && after.every((value, i) => value === values[i])) return;
    // The existing entries are in another order than wanted: rewrite them in place instead.
    this.seq.items = before;
    this.setInPlace(name, values);
  }

  /**
   * Leaves entries that keep their value untouched (with their comments), reuses entries whose
   * value goes away for new values, and inserts the rest next to their neighbours in `values`.
   */
  private setKeepingNodes(name: string, values: readonly string[]): void {
    const existing = this.entries().filter((entry) => entry.name === name);
    const wanted = new Set(values);
    const placed = new Map<string, Node>();
    const reusable: Entry[] = [];
    for (const entry of existing) {
      if (wanted.has(entry.value) && !placed.has(entry.value)) placed.set(entry.value, entry.node);
      else reusable.push(entry);
    }
    for (const value of values) {
      if (placed.has(value)) continue;
      const entry = reusable.shift();
      if (entry === undefined) break;
      this.update(entry, value);
      placed.set(value, entry.node);
    }
    for (const entry of reusable) this.seq.items.splice(this.seq.items.indexOf(entry.node), 1);
    values.forEach((value, i) => {
      if (placed.has(value)) return;
      const node = this.make(name, value);
      const next = values.slice(i + 1).find((v) => placed.has(v));
      const previous = values
        .slice(0, i)
        .reverse()
        .find((v) => placed.has(v));
      if (next !== undefined) {
        const anchor = placed.get(next) as Node;
        // A comment above the entry introduces the group: keep it above the new first entry.
        node.commentBefore = anchor.commentBefore;
        node.spaceBefore = anchor.spaceBefore;
        anchor.commentBefore = undefined;
        anchor.spaceBefore = undefined;
        this.seq.items.splice(this.seq.items.indexOf(anchor), 0, node);
      } else {
        const at =
          previous !== undefined ? this.seq.items.indexOf(placed.get(previous) as Node) : this.anchor();
        this.seq.items.splice(at + 1, 0, node);
      }
      placed.set(value, node);
    });
  }

  /** Rewrites the values of the existing entries in order, then removes or appends the difference. */
  private setInPlace(name: string, values: readonly string[]): void {
    const existing = this.entries().filter((entry) => entry.name === name);
    existing.forEach((entry, i) => {
      const value = values[i];
      if (value !== undefined && value !== entry.value) this.update(entry, value);
    });
    for (const entry of existing.slice(values.length)) {
      this.seq.items.splice(this.seq.items.indexOf(entry.node), 1);
    }
    if (values.length <= existing.length) return;
    const last = existing.at(-1);
    let at = last !== undefined ? this.seq.items.indexOf(last.node) : this.anchor();
    for (const value of values.slice(existing.length)) {
      at += 1;
      this.seq.items.splice(at, 0, this.make(name, value));
    }
  }

  /** New flags go after the last service-account or audience flag, else at the end. */
  private anchor(): number {
    const related = this.entries().filter(
      (entry) => MANAGED.test(entry.name) && entry.name !== 'feature-gates',
    );
    const last = related.at(-1);
    return last !== undefined ? this.seq.items.indexOf(last.node) : this.seq.items.length - 1;
  }
}

/** `--name=value` strings; `dashes: 'optional'` also reads k3s-style `name=value`. */
export class StringSeqArgs extends SeqArgs {
  constructor(
    doc: Document,
    seq: YAMLSeq,
    where: string,
    private readonly style: { dashes: 'required' | 'optional'; newPrefix: '--' | '' },
  ) {
    super(doc, seq, where);
  }

  protected parse(node: unknown): (Entry & { prefix: string }) | null {
    const text = scalarText(node);
    if (text === null) {
      throw invalid(
        this.where,
        'has an entry that is not a string',
        'Write every argument as one "--name=value" string.',
      );
    }
    const match = /^(--)?([A-Za-z0-9][A-Za-z0-9-]*)(?:=([\s\S]*))?$/.exec(text);
    if (match === null) return null;
    const prefix = match[1] ?? '';
    if (this.style.dashes === 'required' && prefix === '') return null;
    const name = match[2] ?? '';
    if (match[3] === undefined) {
      if (MANAGED.test(name)) {
        throw invalid(
          this.where,
          `"${text}" has no "=value"`,
          `Write it as "${prefix}${name}=<value>" in a single entry, then run again.`,
        );
      }
      return null;
    }
    return { node: node as Node, name, value: match[3], prefix };
  }

  protected make(name: string, value: string): Node {
    const node = new Scalar(`${this.style.newPrefix}${name}=${value}`);
    const sibling = this.seq.items.find((item) => isScalar(item) && typeof item.value === 'string');
    if (isScalar(sibling) && sibling.type !== undefined) node.type = sibling.type;
    return node;
  }

  protected update(entry: Entry, value: string): void {
    const node = entry.node as Scalar;
    const prefix = (this.parse(node) as { prefix: string } | null)?.prefix ?? this.style.newPrefix;
    node.value = `${prefix}${entry.name}=${value}`;
  }
}

/** kubeadm v1beta4 `extraArgs: [{ name, value }]`. */
export class NameValueSeqArgs extends SeqArgs {
  protected parse(node: unknown): Entry | null {
    if (!isMap(node)) {
      throw invalid(
        this.where,
        'has an entry that is not a {name, value} map',
        'Write each entry as "- name: <flag>\\n  value: <value>".',
      );
    }
    const name = scalarText(node.get('name', true));
    const value = scalarText(node.get('value', true)) ?? '';
    if (name === null || name === '') {
      throw invalid(this.where, 'has an entry without a name', 'Give every extraArgs entry a "name".');
    }
    return { node, name, value };
  }

  protected make(name: string, value: string): Node {
    return this.doc.createNode({ name, value });
  }

  protected update(entry: Entry, value: string): void {
    const map = entry.node as YAMLMap;
    const current = map.get('value', true);
    if (isScalar(current)) current.value = value;
    else map.set('value', value);
  }
}

/** A `name: value` map (kubeadm v1beta3, Talos): one value per flag. */
export class MapArgs implements ArgStore {
  readonly repeatable = false;
  constructor(
    private readonly map: YAMLMap,
    private readonly where: string,
  ) {}

  get(name: string): string[] {
    if (!this.map.has(name)) return [];
    const text = scalarText(this.map.get(name, true));
    if (text === null) {
      throw invalid(
        this.where,
        `"${name}" is not a plain value`,
        `Write "${name}" as a single string value.`,
      );
    }
    return [text];
  }

  set(name: string, values: readonly string[]): void {
    if (values.length > 1) throw new Error(`MapArgs.set(${name}) given ${values.length} values`);
    const value = values[0];
    if (value === undefined) {
      this.map.delete(name);
      return;
    }
    const current = this.map.get(name, true);
    if (isScalar(current)) current.value = value;
    else this.map.set(name, value);
  }
}
