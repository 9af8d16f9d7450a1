import { useId, useState, type FormEvent } from "react";
import type { Schemas } from "../api/client";
import { may } from "../auth/permissions";
import { useMe } from "../auth/session";
import { ErrorNote } from "../ui/feedback";
import { useChangeVariables } from "./mutations";
import { asEditable, isMasked, nameProblem, parseJsonValue } from "./variables";

type Instance = Schemas["InstanceDetail"];

/** The instance's variables as JSON; with variables:update, edit, add and delete them. */
export function VariablesPanel({ instance }: { instance: Instance }) {
  const me = useMe();
  const entries = Object.entries(instance.variables).sort(([a], [b]) => a.localeCompare(b));
  const editable = instance.status === "active" && may(me.data, "variables:update", instance.process);
  return (
    <section aria-labelledby="variables-title" className="panel">
      <h2 id="variables-title">Variables</h2>
      {entries.length === 0 && <p className="muted">No variables.</p>}
      {entries.length > 0 && (
        <table className="list compact vars-table" data-testid="variables">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value (JSON)</th>
              {editable && <th scope="col"><span className="sr-only">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {entries.map(([name, value]) => (
              <VariableRow key={`${name}@${instance.revision}`} instance={instance} name={name} value={value} editable={editable} />
            ))}
          </tbody>
        </table>
      )}
      {editable && <AddVariable instance={instance} existing={entries.map(([name]) => name)} />}
    </section>
  );
}

function VariableRow({ instance, name, value, editable }: { instance: Instance; name: string; value: unknown; editable: boolean }) {
  const masked = isMasked(instance.masked, name);
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(() => asEditable(value));
  const [invalid, setInvalid] = useState<string | null>(null);
  const change = useChangeVariables(instance.id);
  const [revision, setRevision] = useState(instance.revision);
  const hint = useId();

  function save(event: FormEvent) {
    event.preventDefault();
    const parsed = parseJsonValue(text);
    if (!parsed.ok) {
      setInvalid(parsed.error);
      return;
    }
    setInvalid(null);
    change.mutate({ set: { [name]: parsed.value }, revision }, { onSuccess: () => setEditing(false) });
  }

  function remove() {
    if (window.confirm(`Delete the variable ${name}?`)) change.mutate({ remove: [name], revision: instance.revision });
  }

  if (editing) {
    return (
      <tr data-variable={name}>
        <th scope="row">{name}</th>
        <td colSpan={2}>
          <form onSubmit={save} className="var-editor">
            <label>
              New value of {name} (JSON)
              <textarea value={text} rows={Math.min(10, text.split("\n").length + 1)} spellCheck={false}
                aria-invalid={invalid ? true : undefined} aria-describedby={hint}
                onChange={(e) => setText(e.target.value)} autoFocus />
            </label>
            <div id={hint} aria-live="polite">
              {invalid && <p className="error" role="alert">{invalid}</p>}
              {change.error && <ErrorNote error={change.error} />}
            </div>
            <div className="buttons">
              <button type="submit" className="primary" disabled={change.isPending}>{change.isPending ? "Saving…" : "Save"}</button>
              <button type="button" onClick={() => { setEditing(false); change.reset(); setInvalid(null); }}>Cancel</button>
            </div>
          </form>
        </td>
      </tr>
    );
  }
  return (
    <tr data-variable={name}>
      <th scope="row">{name}</th>
      <td data-label="Value"><code>{JSON.stringify(value)}</code>{masked && <span className="muted small"> (sensitive: hidden from you)</span>}</td>
      {editable && (
        <td data-label="Actions" className="row-actions">
          {!masked && (
            <button type="button" aria-label={`Edit ${name}`}
              onClick={() => { setText(asEditable(value)); setRevision(instance.revision); setEditing(true); }}>
              Edit
            </button>
          )}
          <button type="button" className="danger" aria-label={`Delete ${name}`} onClick={remove} disabled={change.isPending}>Delete</button>
          {change.error && <ErrorNote error={change.error} />}
        </td>
      )}
    </tr>
  );
}

function AddVariable({ instance, existing }: { instance: Instance; existing: string[] }) {
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const change = useChangeVariables(instance.id);

  function add(event: FormEvent) {
    event.preventDefault();
    const problem = nameProblem(name, existing);
    const parsed = parseJsonValue(text);
    if (problem || !parsed.ok) {
      setInvalid(problem ?? (parsed.ok ? null : parsed.error));
      return;
    }
    setInvalid(null);
    change.mutate({ set: { [name]: parsed.value }, revision: instance.revision }, {
      onSuccess: () => { setName(""); setText(""); },
    });
  }

  return (
    <form className="add-variable" onSubmit={add} aria-label="Add a variable">
      <label>
        New variable
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name" />
      </label>
      <label>
        Its value (JSON)
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder='"text", 42, true, {...}' spellCheck={false} />
      </label>
      <button type="submit" disabled={change.isPending}>Add</button>
      <div className="form-messages" aria-live="polite">
        {invalid && <p className="error" role="alert">{invalid}</p>}
        {change.error && <ErrorNote error={change.error} />}
      </div>
    </form>
  );
}
