// The server's validation (POST /definitions/validate) names each problem's element by id,
// and its line in the file that was sent. The modeler marks the element on the diagram and
// lists every problem; one whose element is not drawn (a message, an error definition, a
// flow without a shape) is pinned, by its line, to the drawn element that holds that line.
import type { Schemas } from "../api/client";
import type { ApiError } from "../api/problems";

export type ValidationProblem = Schemas["ValidationProblem"];

export interface PlacedProblem extends ValidationProblem {
  /** error: a deploy refuses it; warning: stored, but the process cannot run until it is fixed */
  severity: "error" | "warning";
  /** the drawn element the problem is shown on, or null: shown in the list only */
  shownOn: string | null;
}

export interface ProblemPlacement {
  all: PlacedProblem[];
  byElement: Map<string, PlacedProblem[]>;
}

interface Opened {
  id: string | null;
  line: number;
}

/**
 * For each line of `xml`, the id of the innermost element open there that has an id, as a
 * function of the line (1-based). A small scanner over tags, not a parser: the file is the
 * modeler's own export, well-formed, so tags, comments and CDATA are all it needs to know.
 */
export function elementsByLine(xml: string): (line: number) => string[] {
  const spans: { id: string; from: number; to: number }[] = [];
  const stack: Opened[] = [];
  const token = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<(\/?)([^\s/>]+)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;
  let line = 1;
  let position = 0;
  const advance = (to: number) => {
    for (let i = position; i < to; i++) if (xml.charCodeAt(i) === 10) line++;
    position = to;
  };
  for (const match of xml.matchAll(token)) {
    advance(match.index ?? 0);
    const startLine = line;
    advance((match.index ?? 0) + match[0].length);
    if (match[2] === undefined) continue; // comment, CDATA, declaration
    const closing = match[1] === "/";
    const selfClosing = match[4] === "/";
    if (closing) {
      const opened = stack.pop();
      if (opened?.id) spans.push({ id: opened.id, from: opened.line, to: line });
      continue;
    }
    const id = /\sid\s*=\s*(["'])(.*?)\1/.exec(match[3] ?? "")?.[2] ?? null;
    if (selfClosing) {
      if (id) spans.push({ id, from: startLine, to: line });
    } else {
      stack.push({ id, line: startLine });
    }
  }
  return (wanted: number) =>
    spans
      .filter((span) => span.from <= wanted && wanted <= span.to)
      .sort((a, b) => b.from - a.from || a.to - b.to)
      .map((span) => span.id);
}

/** The code given to a reason the process cannot run (the code starting it answers). */
export const NOT_EXECUTABLE = "DEFINITION_NOT_EXECUTABLE";

/**
 * Why a process that a deploy accepts cannot run (a service task without a task type, as a
 * process repository draws it), as problems on their elements. The server words each
 * reason `'element': message` (in `not_executable`, and as `cannot run: ...` warnings).
 */
export function reasonsNotRunnable(reasons: readonly string[]): ValidationProblem[] {
  return reasons.map((reason) => {
    const text = reason.replace(/^cannot run: /, "");
    const match = /^'([^']*)'(?: \(line (\d+)\))?: ([\s\S]*)$/.exec(text);
    return match
      ? { element: match[1]!, line: match[2] ? Number(match[2]) : null, message: match[3]!, code: NOT_EXECUTABLE }
      : { element: null, line: null, message: text, code: NOT_EXECUTABLE };
  });
}

/** The `cannot run: ...` warnings of a validation, apart from the others (what the import leaves out). */
export function splitWarnings(warnings: readonly string[]): { cannotRun: string[]; leftOut: string[] } {
  return {
    cannotRun: warnings.filter((w) => w.startsWith("cannot run: ")),
    leftOut: warnings.filter((w) => !w.startsWith("cannot run: ")),
  };
}

/**
 * Where each problem is shown: on its element when that is drawn, else on the innermost drawn
 * element around its line, else in the list only (a problem of the whole document).
 */
export function placeProblems(
  problems: readonly ValidationProblem[],
  drawn: ReadonlySet<string>,
  xml: string,
): ProblemPlacement {
  const around = elementsByLine(xml);
  const all = problems.map((problem): PlacedProblem => {
    const severity = problem.code === NOT_EXECUTABLE ? "warning" : "error";
    if (problem.element && drawn.has(problem.element)) return { ...problem, severity, shownOn: problem.element };
    const holder = problem.line ? around(problem.line).find((id) => drawn.has(id)) : undefined;
    return { ...problem, severity, shownOn: holder ?? null };
  });
  const byElement = new Map<string, PlacedProblem[]>();
  for (const problem of all) {
    if (problem.shownOn === null) continue;
    byElement.set(problem.shownOn, [...(byElement.get(problem.shownOn) ?? []), problem]);
  }
  return { all, byElement };
}

/** The problems of a refused deploy (MODEL_INVALID lists them; other refusals are one). */
export function problemsOfRefusal(error: ApiError): ValidationProblem[] {
  const listed = error.problem.problems;
  if (Array.isArray(listed)) {
    return listed.map((p: { element?: string | null; message?: string; line?: number | null }) => ({
      element: p.element ?? null,
      message: p.message ?? error.detail,
      line: p.line ?? null,
      code: error.code,
    }));
  }
  const line = typeof error.problem.line === "number" ? error.problem.line : null;
  const element = typeof error.problem.element === "string" ? error.problem.element : null;
  return [{ element, message: error.detail, line, code: error.code }];
}

/** A problem's first clause, for the badge on the element (the list below has it whole). */
export function headline(message: string): string {
  const cut = message.indexOf(": ");
  if (cut > 0 && cut <= 100) return message.slice(0, cut);
  return message.length > 100 ? `${message.slice(0, 99)}…` : message;
}
