import { Link } from "react-router-dom";
import type { Schemas } from "../api/client";
import { may } from "../auth/permissions";
import { useMe } from "../auth/session";
import { ErrorNote, formatTime, Loading } from "../ui/feedback";
import { useDefinitions } from "./queries";

type Definition = Schemas["DefinitionListItem"];

/** The definitions grouped by process key, newest version first. */
export function groupByKey(definitions: Definition[]): Array<{ key: string; versions: Definition[] }> {
  const groups = new Map<string, Definition[]>();
  for (const definition of definitions) {
    const versions = groups.get(definition.key) ?? [];
    versions.push(definition);
    groups.set(definition.key, versions);
  }
  return [...groups.entries()]
    .map(([key, versions]) => ({ key, versions: versions.sort((a, b) => b.version - a.version) }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

function Counts({ latest }: { latest: Definition }) {
  const counts = latest.instances_all_versions;
  return (
    <>
      <td data-label="Active" className="number">{counts.active}</td>
      <td data-label="Completed" className="number">{counts.completed}</td>
      <td data-label="Incidents" className={`number${counts.incidents ? " has-incidents" : ""}`}>{counts.incidents}</td>
    </>
  );
}

export function ProcessesPage() {
  const definitions = useDefinitions();
  const me = useMe();
  return (
    <section aria-labelledby="processes-title">
      <div className="title-row">
        <h1 id="processes-title">Processes</h1>
        {may(me.data, "definitions:deploy") && <Link to="/modeler" className="button">New process</Link>}
      </div>
      {definitions.isPending && <Loading what="processes" />}
      {definitions.error && <ErrorNote error={definitions.error} />}
      {definitions.data && definitions.data.items.length === 0 && (
        <p className="muted">Nothing is deployed yet: deploy a model with <code>legato deploy FILE</code>, or draw one in the modeler.</p>
      )}
      {definitions.data && definitions.data.items.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Process</th>
              <th scope="col">Versions</th>
              <th scope="col">Deployed</th>
              <th scope="col" className="number">Active</th>
              <th scope="col" className="number">Completed</th>
              <th scope="col" className="number">Incidents</th>
            </tr>
          </thead>
          <tbody>
            {groupByKey(definitions.data.items).map(({ key, versions }) => {
              const latest = versions[0]!;
              return (
                <tr key={key}>
                  <td data-label="Process">
                    <Link to={`/processes/${encodeURIComponent(key)}`}>{latest.name ?? key}</Link>
                    {latest.name && <div className="muted small">{key}</div>}
                  </td>
                  <td data-label="Versions">
                    {versions.map((v) => (
                      <Link key={v.version} className="chip" to={`/processes/${encodeURIComponent(key)}?version=${v.version}`}
                        aria-label={`${key} version ${v.version}`}>
                        v{v.version}
                      </Link>
                    ))}
                  </td>
                  <td data-label="Deployed">{formatTime(latest.deployed_at)}</td>
                  <Counts latest={latest} />
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
