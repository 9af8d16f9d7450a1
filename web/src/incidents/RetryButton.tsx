import { useId, useState, type FormEvent } from "react";
import { may } from "../auth/permissions";
import { useMe } from "../auth/session";
import { parseJsonObject } from "../instances/variables";
import { ErrorNote } from "../ui/feedback";
import { useRetryIncident, type Incident } from "./queries";

/**
 * Retry, or retry with changed variables (the fix set in the same step), with the answer or
 * the refusal shown next to the buttons. Hidden without incidents:retry; the variables form
 * also needs variables:update.
 */
export function RetryButton({ incident }: { incident: Incident }) {
  const me = useMe();
  const retry = useRetryIncident();
  const [fixing, setFixing] = useState(false);
  const [text, setText] = useState("{}");
  const [invalid, setInvalid] = useState<string | null>(null);
  const hint = useId();
  if (!may(me.data, "incidents:retry") || incident.status !== "open") return null;
  const done = retry.isSuccess;

  function retryWith(event: FormEvent) {
    event.preventDefault();
    const parsed = parseJsonObject(text);
    if (!parsed.ok) {
      setInvalid(parsed.error);
      return;
    }
    setInvalid(null);
    retry.mutate({ incident, variables: parsed.value });
  }

  return (
    <div className="action retry">
      <button type="button" onClick={() => retry.mutate({ incident })} disabled={retry.isPending || done}
        aria-label={`Retry ${incident.element}`}>
        {retry.isPending ? "Retrying…" : done ? "Retried" : "Retry"}
      </button>
      {may(me.data, "variables:update") && !done && (
        <button type="button" aria-expanded={fixing} onClick={() => setFixing(!fixing)}>Retry with changed variables…</button>
      )}
      {fixing && !done && (
        <form onSubmit={retryWith} className="var-editor">
          <label>
            Variables to set before the retry (a JSON object)
            <textarea value={text} rows={3} spellCheck={false} onChange={(e) => setText(e.target.value)}
              aria-invalid={invalid ? true : undefined} aria-describedby={hint} />
          </label>
          <div id={hint} aria-live="polite">{invalid && <p className="error" role="alert">{invalid}</p>}</div>
          <button type="submit" className="primary" disabled={retry.isPending}>Set and retry</button>
        </form>
      )}
      {retry.error && <ErrorNote error={retry.error} />}
    </div>
  );
}
