import type { Schemas } from "../api/client";
import { formatTime } from "../ui/feedback";

type HistoryEvent = Schemas["HistoryEvent"];

const WORDS: Record<string, string> = {
  instance_started: "Started",
  instance_completed: "Completed",
  instance_cancelled: "Cancelled",
  element_entered: "Entered",
  element_completed: "Completed",
  element_passed: "Passed",
  incident_created: "Incident",
  incident_resolved: "Incident resolved",
  variables_changed: "Variables changed",
};

export function describeEvent(event: HistoryEvent): string {
  const word = WORDS[event.type] ?? event.type.replaceAll("_", " ");
  return event.element ? `${word} ${event.element}` : word;
}

/** The variables an event changed, when it changed any. */
export function changedVariables(event: HistoryEvent): Record<string, unknown> | null {
  const data = event.data as { variables?: unknown } | null;
  const variables = data && typeof data === "object" ? data.variables : undefined;
  return variables && typeof variables === "object" && Object.keys(variables).length ? (variables as Record<string, unknown>) : null;
}

/** The variables an event removed (a repair's `removed`). */
export function removedVariables(event: HistoryEvent): string[] {
  const data = event.data as { removed?: unknown } | null;
  return data && Array.isArray(data.removed) ? data.removed.filter((name): name is string => typeof name === "string") : [];
}

export function Timeline({ history }: { history: HistoryEvent[] }) {
  return (
    <ol className="timeline" data-testid="timeline">
      {history.map((event) => {
        const variables = changedVariables(event);
        return (
          <li key={event.seq} className={`event event-${event.type}`}>
            <time dateTime={event.at}>{formatTime(event.at)}</time>
            <span className="what">{describeEvent(event)}</span>
            {event.actor && <span className="who muted">by {event.actor}</span>}
            {variables && <code className="vars">{JSON.stringify(variables)}</code>}
            {removedVariables(event).length > 0 && <code className="vars">removed: {removedVariables(event).join(", ")}</code>}
          </li>
        );
      })}
    </ol>
  );
}
