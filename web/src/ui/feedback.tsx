import { explain } from "../api/problems";

export function Loading({ what }: { what: string }) {
  return <p className="muted" role="status">Loading {what}…</p>;
}

/** An error where it happened, in words (the problem document's detail), announced to screen readers. */
export function ErrorNote({ error }: { error: unknown }) {
  return <p className="error" role="alert">{explain(error)}</p>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function formatTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}
