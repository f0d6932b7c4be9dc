// Just enough of a PDF reader to check the report's PDFs without another tool: the pages in
// order, and the text each page shows. It reads what Chromium (Skia) writes — objects with
// Flate-compressed streams, fonts with a ToUnicode map, text in hex or literal strings, form
// XObjects — and is not a general PDF parser (no object streams, no encryption).
import zlib from "node:zlib";

interface PdfObject {
  dict: string;
  stream?: Buffer;
}

const REF = /^(\d+) (\d+) R$/;

export interface PdfText {
  pages: string[];
}

export function readPdf(data: Buffer): PdfText {
  const text = data.toString("latin1");
  if (!text.startsWith("%PDF-")) throw new Error("not a PDF");
  const objects = new Map<number, PdfObject>();
  for (const m of text.matchAll(/(?:^|[\r\n])(\d+) (\d+) obj\b/g)) {
    const start = m.index + m[0].length;
    const num = Number(m[1]);
    const streamAt = text.indexOf("stream", start);
    const endObj = text.indexOf("endobj", start);
    if (streamAt >= 0 && streamAt < endObj) {
      const dict = text.slice(start, streamAt);
      let dataStart = streamAt + "stream".length;
      if (text[dataStart] === "\r") dataStart++;
      if (text[dataStart] === "\n") dataStart++;
      const length = /\/Length (\d+)\s*(?=[/>])/.exec(dict);
      const dataEnd = length ? dataStart + Number(length[1]) : text.indexOf("endstream", dataStart);
      let stream = data.subarray(dataStart, dataEnd);
      if (/\/Filter\s*\/FlateDecode/.test(dict)) stream = zlib.inflateSync(stream);
      objects.set(num, { dict, stream });
    } else {
      objects.set(num, { dict: text.slice(start, endObj) });
    }
  }
  const get = (ref: string | undefined): PdfObject | undefined => {
    const m = ref ? REF.exec(ref.trim()) : null;
    return m ? objects.get(Number(m[1])) : undefined;
  };

  const trailer = text.lastIndexOf("trailer");
  const root =
    get(trailer >= 0 ? /\/Root (\d+ \d+ R)/.exec(text.slice(trailer))?.[1] : undefined) ??
    [...objects.values()].find((o) => /\/Type\s*\/Catalog\b/.test(o.dict));
  const pagesRoot = get(root && value(root.dict, "Pages"));
  if (!pagesRoot) throw new Error("no page tree");
  const pages: { page: PdfObject; resources: string }[] = [];
  const walk = (node: PdfObject, inherited: string) => {
    const resources = value(node.dict, "Resources") ?? inherited; // (a page inherits its tree's resources)
    if (/\/Type\s*\/Pages\b/.test(node.dict))
      for (const kid of refs(value(node.dict, "Kids") ?? "")) walk(objects.get(kid) ?? { dict: "" }, resources);
    else if (/\/Type\s*\/Page\b/.test(node.dict)) pages.push({ page: node, resources });
  };
  walk(pagesRoot, "");

  const resolve = (v: string | undefined): string => (v && REF.test(v.trim()) ? (get(v)?.dict ?? "") : (v ?? ""));
  const cmaps = new Map<number, Map<string, string>>();
  const fontMap = (fontRef: string): Map<string, string> => {
    const m = REF.exec(fontRef.trim());
    const key = m ? Number(m[1]) : -1;
    if (!cmaps.has(key))
      cmaps.set(key, toUnicode(get(value(get(fontRef)?.dict ?? "", "ToUnicode"))?.stream?.toString("latin1") ?? ""));
    return cmaps.get(key)!;
  };

  const showText = (content: string, resources: string, out: string[], depth = 0): void => {
    const fonts = dictEntries(resolve(value(resources, "Font")));
    const xobjects = dictEntries(resolve(value(resources, "XObject")));
    let font = new Map<string, string>();
    const operands: string[] = [];
    for (const token of tokens(content)) {
      if (!/^[A-Za-z'"*]+$/.test(token) || token === "true" || token === "false" || token === "null") {
        operands.push(token);
        continue;
      }
      if (token === "Tf") font = fontMap(fonts.get(operands.at(-2)?.slice(1) ?? "") ?? "");
      else if (token === "Tj" || token === "'" || token === '"') out.push(decode(operands.at(-1) ?? "", font));
      else if (token === "TJ")
        out.push(
          arrayStrings(operands.at(-1) ?? "")
            .map((s) => decode(s, font))
            .join(""),
        );
      else if (token === "ET" || token === "T*" || token === "Td" || token === "TD") out.push(" ");
      else if (token === "Do" && depth < 8) {
        const form = get(xobjects.get(operands.at(-1)?.slice(1) ?? ""));
        if (form?.stream && /\/Subtype\s*\/Form/.test(form.dict))
          showText(
            form.stream.toString("latin1"),
            value(form.dict, "Resources") ? resolve(value(form.dict, "Resources")) : resources,
            out,
            depth + 1,
          );
      }
      operands.length = 0;
    }
  };

  return {
    pages: pages.map(({ page, resources: ownOrInherited }) => {
      const resources = resolve(ownOrInherited);
      const contents = value(page.dict, "Contents") ?? "";
      const streams = (contents.trim().startsWith("[") ? refs(contents) : refs(contents).slice(0, 1)).map(
        (n) => objects.get(n)?.stream?.toString("latin1") ?? "",
      );
      const out: string[] = [];
      showText(streams.join("\n"), resources, out);
      return out.join("").normalize("NFKC").replace(/\s+/g, " ").trim(); // (NFKC: a ligature glyph such as "ﬁ" reads as "fi")
    }),
  };
}

/** The value of `/Key` in a dictionary's text: a reference, a name, a number, an array or a nested dictionary. */
function value(dict: string, key: string): string | undefined {
  const re = new RegExp(`/${key}(?![A-Za-z0-9])\\s*`, "g");
  let m: RegExpExecArray | null;
  while ((m = re.exec(dict))) {
    const rest = dict.slice(m.index + m[0].length);
    const ref = /^\d+ \d+ R/.exec(rest);
    if (ref) return ref[0];
    if (rest.startsWith("<<")) return balanced(rest, "<<", ">>");
    if (rest.startsWith("[")) return balanced(rest, "[", "]");
    const atom = /^[^\s/<>[\]()]+|^\/[^\s/<>[\]()]+/.exec(rest);
    if (atom) return atom[0];
  }
  return undefined;
}

function balanced(s: string, open: string, close: string): string {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.startsWith(open, i)) {
      depth++;
      i += open.length - 1;
    } else if (s.startsWith(close, i)) {
      depth--;
      i += close.length - 1;
      if (depth === 0) return s.slice(0, i + 1);
    }
  }
  return s;
}

const refs = (s: string): number[] => [...s.matchAll(/(\d+) \d+ R/g)].map((m) => Number(m[1]));

/** `<< /F1 5 0 R /F2 6 0 R >>` → F1 → "5 0 R". */
function dictEntries(dict: string): Map<string, string> {
  return new Map([...dict.matchAll(/\/([^\s/<>[\]()]+)\s+(\d+ \d+ R)/g)].map((m) => [m[1], m[2]]));
}

/** A ToUnicode CMap: the code (as hex) → its text. */
function toUnicode(cmap: string): Map<string, string> {
  const map = new Map<string, string>();
  const utf16 = (hex: string) =>
    Buffer.from(hex.length % 4 ? hex.padStart(hex.length + (4 - (hex.length % 4)), "0") : hex, "hex")
      .swap16()
      .toString("utf16le");
  for (const block of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const m of block[1].matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>/g)) map.set(m[1].toLowerCase(), utf16(m[2]));
  }
  for (const block of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const m of block[1].matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(<[0-9a-fA-F]+>|\[[^\]]*\])/g)) {
      const lo = parseInt(m[1], 16);
      const hi = parseInt(m[2], 16);
      const width = m[1].length;
      const targets = m[3].startsWith("[") ? [...m[3].matchAll(/<([0-9a-fA-F]+)>/g)].map((t) => t[1]) : null;
      const base = targets ? "" : m[3].slice(1, -1);
      // (the last UTF-16 unit counts up: a surrogate pair's low half, or a single unit)
      const next = (offset: number) =>
        utf16(base.slice(0, -4) + (parseInt(base.slice(-4), 16) + offset).toString(16).padStart(4, "0"));
      for (let code = lo; code <= hi && code - lo < 65536; code++) {
        const text = targets ? utf16(targets[code - lo] ?? "") : next(code - lo);
        map.set(code.toString(16).padStart(width, "0"), text);
      }
    }
  }
  return map;
}

/** A string operand (`<0012>` or `(abc)`) through the font's map. */
function decode(operand: string, font: Map<string, string>): string {
  let bytes: Buffer;
  if (operand.startsWith("<")) bytes = Buffer.from(operand.slice(1, -1).replace(/\s+/g, "").padEnd(2, "0"), "hex");
  else if (operand.startsWith("(")) bytes = literalBytes(operand);
  else return "";
  if (font.size === 0) return bytes.toString("latin1");
  const width = ([...font.keys()][0]?.length ?? 2) / 2;
  let out = "";
  for (let i = 0; i + width <= bytes.length; i += width)
    out += font.get(bytes.subarray(i, i + width).toString("hex")) ?? "";
  return out;
}

function literalBytes(s: string): Buffer {
  const out: number[] = [];
  const escapes: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, f: 12, "(": 40, ")": 41, "\\": 92 };
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i];
    if (c !== "\\") {
      out.push(c.charCodeAt(0));
      continue;
    }
    const next = s[++i];
    if (next in escapes) out.push(escapes[next]);
    else if (/[0-7]/.test(next)) {
      const oct = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      out.push(parseInt(oct, 8) & 0xff);
      i += oct.length - 1;
    } else if (next === "\r" && s[i + 1] === "\n") i++;
  }
  return Buffer.from(out);
}

function arrayStrings(array: string): string[] {
  return [...tokens(array.slice(1, -1))].filter((t) => t.startsWith("<") || t.startsWith("("));
}

/** A content stream's tokens: strings, arrays and dictionaries whole; names, numbers and operators. */
function* tokens(s: string): Generator<string> {
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) i++;
    else if (c === "%") while (i < s.length && s[i] !== "\n" && s[i] !== "\r") i++;
    else if (c === "(") {
      let depth = 0;
      let j = i;
      for (; j < s.length; j++) {
        if (s[j] === "\\") j++;
        else if (s[j] === "(") depth++;
        else if (s[j] === ")" && --depth === 0) break;
      }
      yield s.slice(i, j + 1);
      i = j + 1;
    } else if (c === "<" && s[i + 1] === "<") {
      const d = balanced(s.slice(i), "<<", ">>");
      yield d;
      i += d.length;
    } else if (c === "<") {
      const j = s.indexOf(">", i);
      yield s.slice(i, j + 1);
      i = j + 1;
    } else if (c === "[") {
      let depth = 0;
      let j = i;
      for (; j < s.length; j++) {
        if (s[j] === "(") {
          for (let d = 0; j < s.length; j++) {
            if (s[j] === "\\") j++;
            else if (s[j] === "(") d++;
            else if (s[j] === ")" && --d === 0) break;
          }
        } else if (s[j] === "[") depth++;
        else if (s[j] === "]" && --depth === 0) break;
      }
      yield s.slice(i, j + 1);
      i = j + 1;
    } else {
      const m = /^\/?[^\s/<>[\]()%{}]+|^[\]{}>)]/.exec(s.slice(i, i + 256));
      const t = m ? m[0] : c;
      yield t;
      i += t.length;
    }
  }
}
