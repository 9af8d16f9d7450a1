import { useMemo } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { may } from "../auth/permissions";
import { useMe } from "../auth/session";
import { BpmnDiagram } from "../diagram/BpmnDiagram";
import { ErrorNote, Loading } from "../ui/feedback";
import { useDefinitions, useDiagram, useProcessStatistics } from "./queries";

/** One process: its diagram with tokens and incidents on each element; an element's instances a click away. */
export function ProcessPage() {
  const { key = "" } = useParams();
  const [search, setSearch] = useSearchParams();
  const navigate = useNavigate();
  const me = useMe();
  const version = Number(search.get("version")) || undefined;
  const definitions = useDefinitions();
  const versions = useMemo(
    () => (definitions.data?.items ?? []).filter((d) => d.key === key).sort((a, b) => b.version - a.version),
    [definitions.data, key],
  );
  const diagram = useDiagram(key, version);
  const stats = useProcessStatistics(key, version);
  const state = useMemo(() => ({ counts: stats.data?.byElement ?? {} }), [stats.data]);
  const shown = versions.find((v) => v.version === version) ?? versions[0];

  const instancesAt = (element: string) => {
    const query = new URLSearchParams({ process: key, status: "active", element });
    if (version) query.set("version", String(version));
    navigate(`/instances?${query}`);
  };

  return (
    <section aria-labelledby="process-title">
      <p className="crumbs"><Link to="/processes">Processes</Link> /</p>
      <div className="title-row">
        <h1 id="process-title">{shown?.name ?? key}</h1>
        <label className="inline">
          Version
          <select value={version ?? ""} onChange={(e) => setSearch(e.target.value ? { version: e.target.value } : {})}>
            <option value="">latest</option>
            {versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
          </select>
        </label>
        <Link to={`/instances?process=${encodeURIComponent(key)}`}>All instances</Link>
        {may(me.data, "definitions:deploy", key) && (
          <Link className="button" to={`/processes/${encodeURIComponent(key)}/edit${shown ? `?version=${shown.version}` : ""}`}>
            Edit in the modeler
          </Link>
        )}
      </div>
      {stats.data && (
        <p className="summary" data-testid="process-summary">
          <strong>{stats.data.active}</strong> active, <strong>{stats.data.completed}</strong> completed,{" "}
          <strong>{stats.data.incidents}</strong> with incidents
        </p>
      )}
      {diagram.isPending && <Loading what="the diagram" />}
      {diagram.error && <ErrorNote error={diagram.error} />}
      {diagram.data && (
        <BpmnDiagram xml={diagram.data} state={state} label={`Diagram of ${key} with instance counts`}
          onElementClick={instancesAt} />
      )}
      {stats.error && <ErrorNote error={stats.error} />}
      {stats.data && Object.keys(stats.data.byElement).length > 0 && (
        <table className="list compact" aria-label="Where instances are">
          <thead>
            <tr><th scope="col">Element</th><th scope="col" className="number">Waiting</th><th scope="col" className="number">Incidents</th></tr>
          </thead>
          <tbody>
            {Object.entries(stats.data.byElement).map(([element, counts]) => (
              <tr key={element}>
                <td data-label="Element"><button type="button" className="link" onClick={() => instancesAt(element)}>{element}</button></td>
                <td data-label="Waiting" className="number">{counts.tokens}</td>
                <td data-label="Incidents" className="number">{counts.incidents}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
