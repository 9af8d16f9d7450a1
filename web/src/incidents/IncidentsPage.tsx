import { useState } from "react";
import { Link } from "react-router-dom";
import { ErrorNote, formatTime, Loading } from "../ui/feedback";
import { useIncidents } from "./queries";
import { RetryButton } from "./RetryButton";

export function IncidentsPage() {
  const [status, setStatus] = useState<"open" | "resolved">("open");
  const incidents = useIncidents(status);
  return (
    <section aria-labelledby="incidents-title">
      <div className="title-row">
        <h1 id="incidents-title">Incidents</h1>
        <label className="inline">
          Show
          <select value={status} onChange={(e) => setStatus(e.target.value as "open" | "resolved")}>
            <option value="open">open</option>
            <option value="resolved">resolved</option>
          </select>
        </label>
      </div>
      {incidents.isPending && <Loading what="incidents" />}
      {incidents.error && <ErrorNote error={incidents.error} />}
      {incidents.data && incidents.data.items.length === 0 && <p className="muted">No {status} incidents.</p>}
      {incidents.data && incidents.data.items.length > 0 && (
        <table className="list" data-testid="incidents">
          <thead>
            <tr>
              <th scope="col">Element</th>
              <th scope="col">Error</th>
              <th scope="col">Instance</th>
              <th scope="col">Since</th>
              <th scope="col"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {incidents.data.items.map((incident) => (
              <tr key={incident.id}>
                <td data-label="Element">{incident.element}</td>
                <td data-label="Error"><strong>{incident.error_type}</strong>: {incident.message}</td>
                <td data-label="Instance"><Link className="mono" to={`/instances/${incident.instance_id}`}>{incident.instance_id}</Link></td>
                <td data-label="Since">{formatTime(incident.created_at)}</td>
                <td data-label="Actions"><RetryButton incident={incident} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
