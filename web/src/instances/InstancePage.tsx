import { useMemo } from "react";
import { Link, useParams } from "react-router-dom";
import { may } from "../auth/permissions";
import { useMe } from "../auth/session";
import { BpmnDiagram } from "../diagram/BpmnDiagram";
import { RetryButton } from "../incidents/RetryButton";
import { useDiagram } from "../processes/queries";
import { ErrorNote, formatTime, Loading, StatusBadge } from "../ui/feedback";
import { takenPath, useCancelInstance, useInstance } from "./queries";
import { Timeline } from "./Timeline";
import { VariablesPanel } from "./VariablesPanel";
import { WorkPanel } from "./WorkPanel";

export function InstancePage() {
  const { id = "" } = useParams();
  const instance = useInstance(id);
  const me = useMe();
  const data = instance.data;
  const diagram = useDiagram(data?.process ?? "", data?.version);
  const cancel = useCancelInstance(id);
  const state = useMemo(
    () =>
      data && {
        active: data.waiting_at,
        incidents: data.incidents.map((i) => i.element),
        taken: takenPath(data.history),
      },
    [data],
  );

  if (instance.isPending) return <Loading what="the instance" />;
  if (instance.error || !data) return <ErrorNote error={instance.error} />;

  return (
    <section aria-labelledby="instance-title">
      <p className="crumbs">
        <Link to="/instances">Instances</Link> / <Link to={`/processes/${encodeURIComponent(data.process)}?version=${data.version}`}>{data.process} v{data.version}</Link> /
      </p>
      <div className="title-row">
        <h1 id="instance-title" className="mono">{data.id}</h1>
        <StatusBadge status={data.status} />
        {data.status === "active" && may(me.data, "instances:cancel", data.process) && (
          <span className="action">
            <button type="button" className="danger" disabled={cancel.isPending}
              onClick={() => window.confirm("Cancel this instance? It stops where it is.") && cancel.mutate(null)}>
              Cancel instance
            </button>
            {cancel.error && <ErrorNote error={cancel.error} />}
          </span>
        )}
      </div>
      <dl className="facts">
        <div><dt>Business key</dt><dd>{data.business_key ?? "—"}</dd></div>
        <div><dt>Started</dt><dd>{formatTime(data.created_at)}</dd></div>
        <div><dt>Ended</dt><dd>{formatTime(data.ended_at)}</dd></div>
        <div><dt>Waiting at</dt><dd data-testid="waiting-at">{data.waiting_at.join(", ") || "—"}</dd></div>
        {data.parent_id && <div><dt>Called by</dt><dd><Link className="mono" to={`/instances/${data.parent_id}`}>{data.parent_id.slice(0, 8)}</Link></dd></div>}
        {(data.children ?? []).length > 0 && (
          <div><dt>Called</dt><dd>{(data.children ?? []).map((c) => <Link key={c} className="mono chip" to={`/instances/${c}`}>{c.slice(0, 8)}</Link>)}</dd></div>
        )}
      </dl>
      {diagram.error && <ErrorNote error={diagram.error} />}
      {diagram.data && <BpmnDiagram xml={diagram.data} state={state ?? undefined} label={`Diagram of instance ${data.id}: where it waits and the path it took`} />}

      {data.incidents.length > 0 && (
        <section aria-labelledby="incidents-title" className="panel">
          <h2 id="incidents-title">Incidents</h2>
          <ul className="incidents">
            {data.incidents.map((incident) => (
              <li key={incident.id} data-testid="incident">
                <strong>{incident.element}</strong>: {incident.error_type}: {incident.message}
                <RetryButton incident={incident} />
                {incident.details && <details><summary>Stack trace</summary><pre>{incident.details}</pre></details>}
              </li>
            ))}
          </ul>
        </section>
      )}

      {data.tasks.length > 0 && (
        <section aria-labelledby="tasks-title" className="panel">
          <h2 id="tasks-title">Open tasks</h2>
          <ul>
            {data.tasks.map((task) => (
              <li key={task.id}>{task.name ?? task.element} — {task.assignee ?? (task.candidate_groups.join(", ") || "anyone")}</li>
            ))}
          </ul>
        </section>
      )}

      <WorkPanel jobs={data.jobs ?? []} subscriptions={data.subscriptions ?? []} />

      <div className="columns">
        <VariablesPanel instance={data} />
        <section aria-labelledby="history-title" className="panel">
          <h2 id="history-title">History</h2>
          <Timeline history={data.history} />
        </section>
      </div>
    </section>
  );
}
