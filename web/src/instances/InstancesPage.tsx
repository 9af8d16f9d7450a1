import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ErrorNote, formatTime, Loading, StatusBadge } from "../ui/feedback";
import { filterFrom, PAGE_SIZE, totalText, useInstances } from "./queries";

/** Instances, newest first, filtered and paged by the server; the filter lives in the URL. */
export function InstancesPage() {
  const [search, setSearch] = useSearchParams();
  const filter = filterFrom(search);
  const cursor = search.get("cursor");
  const [trail, setTrail] = useState<Array<string | null>>([]);
  const instances = useInstances(filter, cursor);
  const [draft, setDraft] = useState({
    process: filter.process ?? "",
    status: filter.status ?? "",
    business_key: filter.business_key ?? "",
  });

  function apply(event: FormEvent) {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of Object.entries(draft)) if (value.trim()) next.set(name, value.trim());
    if (filter.version) next.set("version", String(filter.version));
    if (filter.element) next.set("element", filter.element);
    setTrail([]);
    setSearch(next);
  }

  function goTo(target: string | null) {
    const next = new URLSearchParams(search);
    if (target) next.set("cursor", target);
    else next.delete("cursor");
    setSearch(next);
  }

  function nextPage(target: string) {
    setTrail([...trail, cursor]);
    goTo(target);
  }

  function previousPage() {
    const previous = trail.length ? trail[trail.length - 1]! : null;
    setTrail(trail.slice(0, -1));
    goTo(previous);
  }

  function dropFilter(name: string) {
    const next = new URLSearchParams(search);
    next.delete(name);
    next.delete("cursor");
    setTrail([]);
    setSearch(next);
  }

  return (
    <section aria-labelledby="instances-title">
      <h1 id="instances-title">Instances</h1>
      <form className="filters" onSubmit={apply} aria-label="Filter instances">
        <label>
          Process
          <input value={draft.process} onChange={(e) => setDraft({ ...draft, process: e.target.value })} placeholder="process key" />
        </label>
        <label>
          Status
          <select value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
            <option value="">any</option>
            <option value="active">active</option>
            <option value="completed">completed</option>
            <option value="cancelled">cancelled</option>
            <option value="terminated">terminated</option>
          </select>
        </label>
        <label>
          Business key
          <input value={draft.business_key} onChange={(e) => setDraft({ ...draft, business_key: e.target.value })} />
        </label>
        <button type="submit">Search</button>
      </form>
      {(filter.version || filter.element) && (
        <p className="active-filters">
          {filter.version && <button type="button" className="chip" onClick={() => dropFilter("version")}>version {filter.version} ✕</button>}
          {filter.element && <button type="button" className="chip" onClick={() => dropFilter("element")}>waiting at {filter.element} ✕</button>}
        </p>
      )}
      {instances.isPending && <Loading what="instances" />}
      {instances.error && <ErrorNote error={instances.error} />}
      {instances.data && (
        <>
          {instances.data.items.length === 0 ? (
            <p className="muted">No instance matches.</p>
          ) : (
            <table className="list" data-testid="instances">
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col">Process</th>
                  <th scope="col">Business key</th>
                  <th scope="col">Status</th>
                  <th scope="col">Waiting at</th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {instances.data.items.map((instance) => (
                  <tr key={instance.id}>
                    <td data-label="Instance"><Link to={`/instances/${instance.id}`} className="mono">{instance.id}</Link></td>
                    <td data-label="Process">{instance.process} v{instance.version}</td>
                    <td data-label="Business key">{instance.business_key ?? "—"}</td>
                    <td data-label="Status"><StatusBadge status={instance.status} /></td>
                    <td data-label="Waiting at">{instance.waiting_at.join(", ") || "—"}</td>
                    <td data-label="Started">{formatTime(instance.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={!cursor} onClick={previousPage}>Previous</button>
            <span data-testid="instances-total">
              {totalText(instances.data.total, instances.data.total_exact)} instances, {PAGE_SIZE} a page
            </span>
            <button type="button" disabled={!instances.data.next_cursor}
              onClick={() => instances.data?.next_cursor && nextPage(instances.data.next_cursor)}>Next</button>
          </nav>
        </>
      )}
    </section>
  );
}
