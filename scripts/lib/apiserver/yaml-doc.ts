/**
 * Parsing and re-printing YAML with the `yaml` Document API so comments, key order, quoting and
 * sequence indentation survive an edit. Documents that were not edited are copied byte for byte.
 */
import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isSeq, parseAllDocuments, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { IrsaError } from '#core/errors.ts';

/** Parses every document of a YAML stream; throws APISERVER_CONFIG_INVALID on a syntax error. */
export function parseDocuments(text: string, where: string): Document[] {
  const parsed = parseAllDocuments(text, { prettyErrors: false });
  const docs = Array.isArray(parsed) ? parsed : [];
  if (!Array.isArray(parsed)) {
    throw new IrsaError(
      'APISERVER_CONFIG_INVALID',
      `${where} is not YAML.`,
      'Check the file, or pass the right --file.',
    );
  }
  for (const doc of docs) {
    const first = doc.errors[0];
    if (first !== undefined) {
      throw new IrsaError(
        'APISERVER_CONFIG_INVALID',
        `${where} is not valid YAML: ${first.message.split('\n')[0]}`,
        'Fix the YAML syntax (or pass the right --file), then run again.',
      );
    }
    try {
      // Parsing accepts an alias whose anchor is missing; resolving it (as every edit does) throws.
      doc.toJS();
    } catch (error) {
      throw new IrsaError(
        'APISERVER_CONFIG_INVALID',
        `${where} is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        'Fix the YAML syntax (or pass the right --file), then run again.',
      );
    }
  }
  return docs as Document[];
}

/** The `indentSeq` print option matching `text`, or `fallback` when it has no block sequence. */
export function seqIndentFor(text: string, fallback: boolean): boolean {
  return hasBlockSequence(text) ? !sequencesUnindented(text) : fallback;
}

/** True when `text` has a block sequence under a key. */
function hasBlockSequence(text: string): boolean {
  return /^( *)[^\s#-][^\n]*:[ \t]*(#[^\n]*)?\n\1 *- /m.test(text);
}

/** True when block sequences in `text` are written at their parent key's indentation (kubeadm style). */
export function sequencesUnindented(text: string): boolean {
  const flat = /^( *)[^\s#-][^\n]*:[ \t]*(#[^\n]*)?\n\1- /m.exec(text);
  const indented = /^( *)[^\s#-][^\n]*:[ \t]*(#[^\n]*)?\n\1 +- /m.exec(text);
  if (flat === null) return false;
  if (indented === null) return true;
  return flat.index < indented.index;
}

/**
 * Prints the stream again: edited documents through the Document API, the others copied from
 * `text` unchanged. Returns `text` itself when nothing was edited.
 */
export function renderDocuments(
  text: string,
  docs: readonly Document[],
  edited: ReadonlySet<Document>,
  style: { indentSeq?: boolean } = {},
): string {
  if (edited.size === 0) return text;
  const indentSeq = seqIndentFor(text, style.indentSeq ?? true);
  let out = '';
  docs.forEach((doc, i) => {
    const start = i === 0 ? 0 : (doc.range?.[0] ?? 0);
    const end = i === docs.length - 1 ? text.length : (docs[i + 1]?.range?.[0] ?? text.length);
    if (!edited.has(doc)) {
      out += text.slice(start, end);
      return;
    }
    const original = text.slice(start, end);
    let rendered = restoreLineFormatting(
      original,
      doc.toString({ indentSeq, lineWidth: 0, minContentWidth: 0 }),
    );
    // Keep a trailing "---"-less end and the original final newline convention.
    if (!original.endsWith('\n')) rendered = rendered.replace(/\n$/, '');
    out += rendered;
  });
  return out;
}

/** The map at `key` in `parent`, created (and reported) when absent; throws when it is not a map. */
export function ensureMap(doc: Document, parent: YAMLMap, key: string, where: string): YAMLMap {
  const existing = parent.get(key, true);
  if (existing === undefined || existing === null || isScalarNull(existing)) {
    const created = doc.createNode({}) as YAMLMap;
    parent.set(key, created);
    return created;
  }
  if (!isMap(existing)) throw notA(where, key, 'map');
  return existing;
}

/** The sequence at `key` in `parent`, created when absent; throws when it is not a sequence. */
export function ensureSeq(doc: Document, parent: YAMLMap, key: string, where: string): YAMLSeq {
  const existing = parent.get(key, true);
  if (existing === undefined || existing === null || isScalarNull(existing)) {
    const created = doc.createNode([]) as YAMLSeq;
    parent.set(key, created);
    return created;
  }
  if (!isSeq(existing)) throw notA(where, key, 'list');
  return existing;
}

function isScalarNull(node: unknown): boolean {
  return (
    typeof node === 'object' &&
    node !== null &&
    'value' in node &&
    (node as { value: unknown }).value === null
  );
}

function notA(where: string, key: string, what: string): IrsaError {
  return new IrsaError(
    'APISERVER_CONFIG_INVALID',
    `${where}: "${key}" is not a ${what}.`,
    `Fix "${key}" by hand so it is a ${what}, then run again.`,
  );
}

/** A string field of a map, or undefined. */
export function stringField(map: unknown, key: string): string | undefined {
  if (!isMap(map)) return undefined;
  const value = map.get(key);
  return typeof value === 'string' ? value : undefined;
}

/** A line with runs of blanks collapsed and blanks beside flow punctuation removed. */
function canonicalLine(line: string): string {
  const indent = /^ */.exec(line)?.[0] ?? '';
  return (
    indent +
    line
      .slice(indent.length)
      .replace(/\s+/g, ' ')
      .replace(/ ?([{}[\],]) ?/g, '$1')
      .trimEnd()
  );
}

/**
 * The yaml printer normalises spacing inside lines it did not change (`{a: 1}` → `{ a: 1 }`,
 * `x   # note` → `x # note`). Put back each original line whose content is the same apart from such
 * spacing, and keep the result only if it still means exactly the same YAML.
 */
export function restoreLineFormatting(original: string, rendered: string): string {
  const pool = new Map<string, string[]>();
  for (const line of original.split('\n')) {
    const key = canonicalLine(line);
    const lines = pool.get(key) ?? [];
    lines.push(line);
    pool.set(key, lines);
  }
  const restored = rendered
    .split('\n')
    .map((line) => {
      const candidates = pool.get(canonicalLine(line));
      const match = candidates?.shift();
      return match ?? line;
    })
    .join('\n');
  if (restored === rendered) return rendered;
  const same = isDeepStrictEqual(parseDocument(restored).toJS(), parseDocument(rendered).toJS());
  return same ? restored : rendered;
}

/** A config file that holds one YAML document, or nothing yet (then `doc` is `fresh`). */
export interface SingleDocument {
  text: string;
  docs: Document[];
  doc: Document;
  /** True when the text held no document: the output is the new document appended to it. */
  blank: boolean;
}

/** Parses a one-document config; throws APISERVER_CONFIG_INVALID (with `fix`) for several documents. */
export function parseSingleDocument(
  text: string,
  where: string,
  fresh: unknown,
  fix: string,
): SingleDocument {
  const docs = parseDocuments(text, where);
  const content = docs.filter((doc) => doc.contents !== null);
  if (content.length > 1) {
    throw new IrsaError('APISERVER_CONFIG_INVALID', `${where} holds more than one YAML document.`, fix);
  }
  const first = content[0];
  return { text, docs, doc: first ?? new Document(fresh), blank: first === undefined };
}

/** Prints a {@link SingleDocument} after planning: unchanged text when nothing was edited. */
export function renderSingleDocument(single: SingleDocument, edited: boolean): string {
  if (single.blank) {
    // A comment-only file without a final newline: start the new settings on their own line.
    const separator = single.text === '' || single.text.endsWith('\n') ? '' : '\n';
    const out = `${single.text}${separator}${single.doc.toString({ lineWidth: 0 })}`;
    // Text that held no document may still hold YAML (a directive) that the appended one breaks.
    parseDocuments(out, 'the file with the new settings appended');
    return out;
  }
  return renderDocuments(single.text, single.docs, new Set(edited ? [single.doc] : []));
}
