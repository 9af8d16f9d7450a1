import type { Schemas } from "../api/client";

/** The instance's variables, each as JSON. */
export function VariablesPanel({ instance }: { instance: Schemas["InstanceDetail"] }) {
  const entries = Object.entries(instance.variables).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section aria-labelledby="variables-title" className="panel">
      <h2 id="variables-title">Variables</h2>
      {entries.length === 0 ? (
        <p className="muted">No variables.</p>
      ) : (
        <table className="list compact" data-testid="variables">
          <thead><tr><th scope="col">Name</th><th scope="col">Value (JSON)</th></tr></thead>
          <tbody>
            {entries.map(([name, value]) => (
              <tr key={name}><th scope="row">{name}</th><td><code>{JSON.stringify(value)}</code></td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
