import { may } from "../auth/permissions";
import { useMe } from "../auth/session";
import { ErrorNote } from "../ui/feedback";
import { useRetryIncident, type Incident } from "./queries";

/** Retry, with the answer (or the refusal) shown next to the button; hidden without incidents:retry. */
export function RetryButton({ incident }: { incident: Incident }) {
  const me = useMe();
  const retry = useRetryIncident();
  if (!may(me.data, "incidents:retry") || incident.status !== "open") return null;
  return (
    <span className="action">
      <button type="button" onClick={() => retry.mutate(incident)} disabled={retry.isPending || retry.isSuccess}
        aria-label={`Retry ${incident.element}`}>
        {retry.isPending ? "Retrying…" : retry.isSuccess ? "Retried" : "Retry"}
      </button>
      {retry.error && <ErrorNote error={retry.error} />}
    </span>
  );
}
