// The work still to come for one instance: service attempts and timers (jobs), and the
// messages and signals it waits for. What Camunda's Cockpit shows as jobs and event
// subscriptions, so an operator sees why an instance is not moving and when it will.
import type { Schemas } from "../api/client";
import { formatTime } from "../ui/feedback";

type Job = Schemas["Job"];
type Subscription = Schemas["Subscription"];

/** "2 of 4 attempts" for a service job; a timer has none. */
export function attemptsText(job: Pick<Job, "kind" | "attempts" | "max_attempts">): string {
  if (job.kind === "timer") return "—";
  const made = `${job.attempts} ${job.attempts === 1 ? "attempt" : "attempts"}`;
  return job.max_attempts == null ? made : `${job.attempts} of ${job.max_attempts} attempts`;
}

/** Whether a job is running now: a worker holds a lock that has not run out at `now`. */
export function isRunning(job: Pick<Job, "locked_by" | "lock_expires_at">, now: Date = new Date()): boolean {
  return job.locked_by != null && job.lock_expires_at != null && new Date(job.lock_expires_at) > now;
}

export function WorkPanel({ jobs, subscriptions }: { jobs: Job[]; subscriptions: Subscription[] }) {
  if (jobs.length === 0 && subscriptions.length === 0) return null;
  return (
    <section aria-labelledby="work-title" className="panel" data-testid="work">
      <h2 id="work-title">Waiting for</h2>
      {jobs.length > 0 && (
        <table className="list">
          <caption>Jobs and timers</caption>
          <thead>
            <tr><th scope="col">Element</th><th scope="col">What</th><th scope="col">Due</th><th scope="col">Attempts</th><th scope="col">State</th></tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.id} data-testid="job">
                <td data-label="Element">{job.element}</td>
                <td data-label="What">{job.kind === "timer" ? "Timer" : <span className="mono">{job.task_type}</span>}</td>
                <td data-label="Due">{formatTime(job.due_at)}</td>
                <td data-label="Attempts">{attemptsText(job)}</td>
                <td data-label="State">
                  {isRunning(job) ? <>running on <span className="mono">{job.locked_by}</span></> : "waiting"}
                  {job.last_error && <div className="muted">last error: {job.last_error}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {subscriptions.length > 0 && (
        <table className="list">
          <caption>Messages and signals</caption>
          <thead>
            <tr><th scope="col">Element</th><th scope="col">Kind</th><th scope="col">Name</th><th scope="col">Correlation key</th><th scope="col">Since</th></tr>
          </thead>
          <tbody>
            {subscriptions.map((s) => (
              <tr key={`${s.element}:${s.name}:${s.created_at}`} data-testid="subscription">
                <td data-label="Element">{s.element}</td>
                <td data-label="Kind">{s.kind}</td>
                <td data-label="Name" className="mono">{s.name}</td>
                <td data-label="Correlation key" className="mono">{s.correlation_key ?? "—"}</td>
                <td data-label="Since">{formatTime(s.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
