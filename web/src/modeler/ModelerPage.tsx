// The modeler screen: a new diagram (from a template) at /modeler, a deployed version at
// /processes/{key}/edit?version=N. Validate asks the server (the deploy's own checks) and
// marks each problem on its element; Deploy makes the next version; Download saves the file.
// Lint runs in the browser as one draws. Only a role that may deploy gets Validate and
// Deploy (the API refuses anyone else anyway).
import { useCallback, useMemo, useRef, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { deployModel, validateModel, type Schemas } from "../api/client";
import { ApiError } from "../api/problems";
import { may } from "../auth/permissions";
import { useMe } from "../auth/session";
import { ErrorNote, Loading } from "../ui/feedback";
import { BpmnEditor, type EditorHandle, type LintIssue } from "./BpmnEditor";
import { DEFAULT_FLAVOUR, FLAVOUR_NAMES, detectFlavour, type Flavour } from "./flavour";
import {
  placeProblems,
  problemsOfRefusal,
  reasonsNotRunnable,
  splitWarnings,
  type ProblemPlacement,
  type ValidationProblem,
} from "./problems";
import { useDeployedDocument } from "./queries";
import { TEMPLATES, processKey, template } from "./templates";

type Deployed = Schemas["Deployed"];

interface Verdict {
  kind: "valid" | "invalid" | "deployed" | "unchanged";
  text: string;
  deployed?: Deployed;
  warnings: string[];
}

export function ModelerPage() {
  const { key } = useParams();
  const [search, setSearch] = useSearchParams();
  const version = Number(search.get("version")) || undefined;
  const me = useMe();
  const deployed = useDeployedDocument(key, version);
  const canDeploy = may(me.data, "definitions:deploy", key);

  // a new diagram: the template's XML; a deployed one: its document, once loaded
  const [opened, setOpened] = useState<{ xml: string; from: string } | null>(null);
  const start = key ? (deployed.data ? { xml: deployed.data.xml, from: `${key} v${deployed.data.version}` } : null)
    : { xml: template(search.get("template")).xml, from: template(search.get("template")).name };
  const current = opened ?? start;
  const detected = current ? detectFlavour(current.xml) : null;
  const [chosenFlavour, setChosenFlavour] = useState<Flavour | null>(null);
  const flavour = chosenFlavour ?? detected ?? DEFAULT_FLAVOUR;

  const editor = useRef<EditorHandle>(null);
  const queries = useQueryClient();
  const [lint, setLint] = useState<LintIssue[]>([]);
  const [placement, setPlacement] = useState<ProblemPlacement | null>(null);
  const [stale, setStale] = useState(false);
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState<"validate" | "deploy" | null>(null);
  const [importError, setImportError] = useState<string | null>(null);

  const onChange = useCallback(() => setStale(true), []);
  const onLint = useCallback((issues: LintIssue[]) => setLint(issues), []);

  const fileName = async (): Promise<{ xml: string; name: string }> => {
    const xml = await editor.current!.saveXML();
    return { xml, name: `${processKey(xml) ?? key ?? "process"}.bpmn` };
  };

  const show = (problems: ValidationProblem[], xml: string) => {
    setPlacement(placeProblems(problems, editor.current!.drawnIds(), xml));
    setStale(false);
  };

  const validate = async () => {
    setBusy("validate");
    setFailure(null);
    try {
      const { xml, name } = await fileName();
      const answer = await validateModel(name, xml);
      const { cannotRun, leftOut } = splitWarnings(answer.warnings);
      show([...answer.problems, ...reasonsNotRunnable(cannotRun)], xml);
      let text = `A deploy would refuse this: ${answer.problems.length} problem(s).`;
      if (answer.valid && answer.unchanged) text = `Valid, and the same as ${answer.key} v${answer.version}: a deploy would create nothing.`;
      else if (answer.valid) text = `Valid: a deploy would create ${answer.key} v${answer.version}.`;
      if (answer.valid && cannotRun.length > 0) text += ` It could not run yet: ${cannotRun.length} element(s) need more (marked).`;
      setVerdict({ kind: !answer.valid ? "invalid" : answer.unchanged ? "unchanged" : "valid", text, warnings: leftOut });
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(null);
    }
  };

  const deploy = async () => {
    setBusy("deploy");
    setFailure(null);
    let xml = "";
    try {
      const saved = await fileName();
      xml = saved.xml;
      const answer = (await deployModel(saved.name, xml)) as Deployed;
      const cannotRun = answer.not_executable ?? [];
      show(reasonsNotRunnable(cannotRun), xml);
      const others = (answer.others ?? []).map((o) => `${o.key} v${o.version}`);
      let text = answer.created ? `Deployed ${answer.key} v${answer.version}.` : `Unchanged: ${answer.key} v${answer.version} is the same model.`;
      if (others.length > 0) text += ` With it: ${others.join(", ")}.`;
      if (cannotRun.length > 0) text += ` It cannot run until ${cannotRun.length} element(s) are fixed (marked); starting it is refused.`;
      setVerdict({
        kind: answer.created ? "deployed" : "unchanged",
        text,
        deployed: answer,
        warnings: splitWarnings(answer.warnings ?? []).leftOut,
      });
      await queries.invalidateQueries({ queryKey: ["definitions"] });
    } catch (error) {
      if (error instanceof ApiError && error.status === 400 && xml) {
        show(problemsOfRefusal(error), xml);
        setVerdict({ kind: "invalid", text: `Not deployed: ${error.detail}`, warnings: [] });
      } else {
        setFailure(error);
      }
    } finally {
      setBusy(null);
    }
  };

  const download = async () => {
    const { xml, name } = await fileName();
    const url = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  };

  const openFile = async (file: File | undefined) => {
    if (!file) return;
    const xml = await file.text();
    setOpened({ xml, from: file.name });
    setChosenFlavour(null);
    setPlacement(null);
    setVerdict(null);
    setImportError(null);
  };

  const lintCounts = useMemo(() => {
    const errors = lint.filter((i) => i.category === "error").length;
    return { errors, warnings: lint.length - errors };
  }, [lint]);

  if (key && deployed.isPending) return <Loading what="the deployed model" />;
  if (key && deployed.error) return <ErrorNote error={deployed.error} />;
  if (!current) return null;

  return (
    <section aria-labelledby="modeler-title" className="modeler-page">
      <p className="crumbs">
        <Link to="/processes">Processes</Link> /{" "}
        {key && <><Link to={`/processes/${encodeURIComponent(key)}`}>{key}</Link> /</>}
      </p>
      <div className="title-row">
        <h1 id="modeler-title">{key ? `Edit ${deployed.data?.name ?? key}` : "New process"}</h1>
        <span className="muted" data-testid="opened-from">from {current.from}</span>
      </div>

      <div className="toolbar" role="toolbar" aria-label="Model">
        {!key && (
          <label className="inline">
            Template
            <select value={search.get("template") ?? "empty"} onChange={(e) => {
              setOpened(null);
              setChosenFlavour(null);
              setPlacement(null);
              setVerdict(null);
              setSearch({ template: e.target.value });
            }}>
              {TEMPLATES.map((t) => <option key={t.id} value={t.id} title={t.description}>{t.name}</option>)}
            </select>
          </label>
        )}
        <label className="inline">
          Execution attributes
          <select value={flavour} onChange={(e) => setChosenFlavour(e.target.value as Flavour)}
            title={detected ? `the file uses ${FLAVOUR_NAMES[detected]}` : "the file says nothing: Camunda 8 unless you choose"}>
            {(Object.keys(FLAVOUR_NAMES) as Flavour[]).map((f) => <option key={f} value={f}>{FLAVOUR_NAMES[f]}</option>)}
          </select>
        </label>
        <label className="inline file-button">
          Open a file
          <input type="file" accept=".bpmn,.xml" onChange={(e) => void openFile(e.target.files?.[0])} />
        </label>
        <button type="button" onClick={() => void download()}>Download</button>
        {canDeploy && (
          <>
            <button type="button" onClick={() => void validate()} disabled={busy !== null}>
              {busy === "validate" ? "Validating…" : "Validate"}
            </button>
            <button type="button" className="primary" onClick={() => void deploy()} disabled={busy !== null}>
              {busy === "deploy" ? "Deploying…" : "Deploy"}
            </button>
          </>
        )}
      </div>
      {!canDeploy && (
        <p className="muted" data-testid="read-only">
          You may draw and download here; validating and deploying need definitions:deploy.
        </p>
      )}

      {importError && <p className="error" role="alert">The file could not be opened: {importError}</p>}
      {Boolean(failure) && <ErrorNote error={failure} />}
      {verdict && (
        <div role="status" className={`verdict verdict-${verdict.kind}`} data-testid="verdict">
          <p>
            {verdict.text}{" "}
            {verdict.deployed && (
              <Link to={`/processes/${encodeURIComponent(verdict.deployed.key)}?version=${verdict.deployed.version}`}>
                Open {verdict.deployed.key} v{verdict.deployed.version}
              </Link>
            )}
          </p>
          {verdict.warnings.length > 0 && (
            <details>
              <summary>{verdict.warnings.length} warning(s): what Legato leaves out</summary>
              <ul>{verdict.warnings.map((w) => <li key={w}>{w}</li>)}</ul>
            </details>
          )}
        </div>
      )}

      <BpmnEditor key={flavour} xml={current.xml} flavour={flavour} problems={stale ? null : placement}
        onChange={onChange} onLint={onLint} onImportError={setImportError} handle={editor} />

      {placement && placement.all.length > 0 && (
        <section aria-labelledby="problems-title" className="problems">
          <h2 id="problems-title">
            What the server found{stale && <span className="muted"> (before your last change: validate again)</span>}
          </h2>
          <ul data-testid="problems">
            {placement.all.map((p, n) => (
              <li key={n} className={`problem-${p.severity}`}>
                {p.shownOn ? (
                  <button type="button" className="link" onClick={() => editor.current?.select(p.shownOn!)}>{p.shownOn}</button>
                ) : (
                  <strong>{p.element ?? "the model"}</strong>
                )}
                {p.line ? <span className="muted"> line {p.line}</span> : null}: {p.message}{" "}
                <code className="muted">{p.code}</code>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="lint-title" className="lint">
        <h2 id="lint-title">
          Lint: <span data-testid="lint-summary">{lintCounts.errors} error(s), {lintCounts.warnings} warning(s)</span>
        </h2>
        {lint.length > 0 && (
          <ul data-testid="lint">
            {lint.map((issue, n) => (
              <li key={n} className={`lint-${issue.category}`}>
                <button type="button" className="link" onClick={() => editor.current?.select(issue.element)}>{issue.element}</button>
                : {issue.message} <code className="muted">{issue.rule}</code>
              </li>
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}
